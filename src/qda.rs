//! REFI-QDA exchange (native builds only): the codebook as a REFI-QDA Codebook file (`.qdc`, XML in the
//! namespace `urn:QDA-XML:codebook:1.0`, schema `Codebook.xsd` of the REFI-QDA standard 1.0), both ways.
//!
//! Export: each domain is a non-codable parent `<Code isCodable="false">` and each code a codable child, with
//! its definition and use / do-not-use rules in `<Description>` and its colour in `color`. GUIDs are UUID v5
//! (name-based, SHA-1) of `"<codebook name>/<domain or code id>"` in a fixed namespace, so the same codebook
//! gets the same GUIDs on every run and machine, and a renamed code gets a new one.
//!
//! Project export ([`to_qdpx`]): a REFI-QDA project (`.qdpx`, a zip holding `project.qde`, XML in the namespace
//! `urn:QDA-XML:project:1.0`, and each note as `sources/<guid>.txt` in UTF-8) with the codebook, one
//! `TextSource` per note and one `PlainTextSelection` per coded segment, carrying one `Coding` per code.
//! `startPosition` and `endPosition` count Unicode code points from the start of the note (not bytes, not
//! UTF-16 units); `startPosition` is the first character of the segment and `endPosition` the position just
//! after its last one, so Python's `text[startPosition:endPosition]` is the segment (end exclusive, as QualCoder
//! and qdpxlib read it). Every GUID is a UUID v5 of names (note id, offsets, code), so the same input gives the
//! same file.
//!
//! Import: every top-level code becomes a domain; every codable code below it (at any depth) becomes a code of
//! that domain; a codable top-level code with no children becomes a domain with one code of the same name.
//! Ids are made from names (lowercase ASCII letters and digits, other runs of characters as `_`), thresholds
//! start at 0.5 (a model trained for the codebook chooses its own), missing colours are grey.
//!
//! Project import ([`from_qdpx`], [`label_units`]): a project coded in another tool becomes training data. Its
//! codebook is converted as above; each `TextSource` gives its text and its `PlainTextSelection`s with their
//! codings (positions in code points, end exclusive); [`label_units`] then labels notecoder's own coding units
//! from the selections, so that training sees the same units as suggestion.

use std::io::Write as _;

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::{Reader, Writer};
use uuid::Uuid;

use crate::codebook::{Code, Codebook, Domain};
use crate::error::{Error, Result};

/// The XML namespace of REFI-QDA codebooks.
pub const CODEBOOK_NS: &str = "urn:QDA-XML:codebook:1.0";
/// The XML namespace of REFI-QDA projects.
pub const PROJECT_NS: &str = "urn:QDA-XML:project:1.0";

/// The namespace of notecoder's name-based GUIDs (a random UUID fixed once; changing it changes every GUID).
const GUID_NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_2b9e_54d3_4a7f_9a0e_3c5b_8d21_e7f4);

/// The stable GUID of a domain or code: UUID v5 of `"<codebook name>/<id>"`, formatted
/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (lowercase hex), as the schema's `GUIDType` allows.
pub fn guid(codebook_name: &str, id: &str) -> String {
    Uuid::new_v5(&GUID_NAMESPACE, format!("{codebook_name}/{id}").as_bytes())
        .hyphenated()
        .to_string()
}

fn description_of(code: &Code) -> String {
    let mut parts = vec![code.definition.trim().to_string()];
    if !code.use_when.trim().is_empty() {
        parts.push(format!("Use when: {}", code.use_when.trim()));
    }
    if !code.do_not_use_when.trim().is_empty() {
        parts.push(format!("Do not use when: {}", code.do_not_use_when.trim()));
    }
    parts.retain(|p| !p.is_empty());
    parts.join("\n\n")
}

fn xml_err(e: impl std::fmt::Display) -> Error {
    Error::Codebook(format!("writing REFI-QDA XML failed: {e}"))
}

/// Writes `book` as a REFI-QDA Codebook document (UTF-8 XML). `origin` goes into the root's `origin`
/// attribute (the producing software, e.g. `notecoder 0.1.0`).
pub fn to_qdc(book: &Codebook, origin: &str) -> Result<String> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))
        .map_err(xml_err)?;
    let mut root = BytesStart::new("CodeBook");
    root.push_attribute(("xmlns", CODEBOOK_NS));
    root.push_attribute(("origin", origin));
    w.write_event(Event::Start(root)).map_err(xml_err)?;
    write_codes(&mut w, book)?;
    w.write_event(Event::End(BytesEnd::new("CodeBook")))
        .map_err(xml_err)?;
    let mut out = String::from_utf8(w.into_inner()).map_err(xml_err)?;
    out.push('\n');
    Ok(out)
}

/// Writes `<Codes>`: each domain a non-codable parent, each code a codable child (shared by both formats).
fn write_codes(w: &mut Writer<Vec<u8>>, book: &Codebook) -> Result<()> {
    w.write_event(Event::Start(BytesStart::new("Codes")))
        .map_err(xml_err)?;
    for d in &book.domains {
        let mut el = BytesStart::new("Code");
        let g = guid(&book.name, &d.id);
        el.push_attribute(("guid", g.as_str()));
        el.push_attribute(("name", d.label.as_str()));
        el.push_attribute(("isCodable", "false"));
        w.write_event(Event::Start(el)).map_err(xml_err)?;
        if !d.description.trim().is_empty() {
            write_description(&mut *w, d.description.trim())?;
        }
        for c in book.codes.iter().filter(|c| c.domain == d.id) {
            let mut el = BytesStart::new("Code");
            let g = guid(&book.name, &c.id);
            el.push_attribute(("guid", g.as_str()));
            el.push_attribute(("name", c.label.as_str()));
            el.push_attribute(("isCodable", "true"));
            el.push_attribute(("color", c.colour.as_str()));
            let desc = description_of(c);
            if desc.is_empty() {
                w.write_event(Event::Empty(el)).map_err(xml_err)?;
            } else {
                w.write_event(Event::Start(el)).map_err(xml_err)?;
                write_description(&mut *w, &desc)?;
                w.write_event(Event::End(BytesEnd::new("Code")))
                    .map_err(xml_err)?;
            }
        }
        w.write_event(Event::End(BytesEnd::new("Code")))
            .map_err(xml_err)?;
    }
    w.write_event(Event::End(BytesEnd::new("Codes")))
        .map_err(xml_err)?;
    Ok(())
}

fn write_description(w: &mut Writer<Vec<u8>>, text: &str) -> Result<()> {
    w.write_event(Event::Start(BytesStart::new("Description")))
        .map_err(xml_err)?;
    w.write_event(Event::Text(BytesText::new(text)))
        .map_err(xml_err)?;
    w.write_event(Event::End(BytesEnd::new("Description")))
        .map_err(xml_err)?;
    Ok(())
}

/// One note of a project: its id (the source's name), its text, and its coded segments.
#[derive(Debug, Clone)]
pub struct ProjectNote {
    /// The note's id, used as the `TextSource` name.
    pub id: String,
    /// The note's text, stored as `sources/<guid>.txt`.
    pub text: String,
    /// Coded segments: `(start, end, code indices into the codebook)`, offsets in Unicode code points of
    /// `text`, end exclusive.
    pub segments: Vec<(usize, usize, Vec<usize>)>,
}

/// Writes a REFI-QDA project (`.qdpx` zip bytes) holding `book` and `notes`; `origin` names the producing
/// software. Errors with [`Error::Codebook`] if a segment lies outside its note or names a code that is not in
/// the codebook, or if the XML or zip cannot be written.
pub fn to_qdpx(book: &Codebook, notes: &[ProjectNote], origin: &str) -> Result<Vec<u8>> {
    let user = guid(&book.name, "user/notecoder");
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 1);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))
        .map_err(xml_err)?;
    let mut root = BytesStart::new("Project");
    root.push_attribute(("xmlns", PROJECT_NS));
    root.push_attribute(("name", book.name.as_str()));
    root.push_attribute(("origin", origin));
    w.write_event(Event::Start(root)).map_err(xml_err)?;
    w.write_event(Event::Start(BytesStart::new("Users")))
        .map_err(xml_err)?;
    let mut u = BytesStart::new("User");
    u.push_attribute(("guid", user.as_str()));
    u.push_attribute(("name", "notecoder"));
    w.write_event(Event::Empty(u)).map_err(xml_err)?;
    w.write_event(Event::End(BytesEnd::new("Users")))
        .map_err(xml_err)?;
    w.write_event(Event::Start(BytesStart::new("CodeBook")))
        .map_err(xml_err)?;
    write_codes(&mut w, book)?;
    w.write_event(Event::End(BytesEnd::new("CodeBook")))
        .map_err(xml_err)?;
    w.write_event(Event::Start(BytesStart::new("Sources")))
        .map_err(xml_err)?;
    let mut files = Vec::new();
    for note in notes {
        let source = guid(&book.name, &format!("source/{}", note.id));
        let chars = note.text.chars().count();
        let mut el = BytesStart::new("TextSource");
        el.push_attribute(("guid", source.as_str()));
        el.push_attribute(("name", note.id.as_str()));
        let path = format!("internal://{source}.txt");
        el.push_attribute(("plainTextPath", path.as_str()));
        el.push_attribute(("creatingUser", user.as_str()));
        w.write_event(Event::Start(el)).map_err(xml_err)?;
        for (start, end, codes) in &note.segments {
            if start >= end || *end > chars {
                return Err(Error::Codebook(format!(
                    "note {}: segment {start}..{end} is outside its {chars} characters",
                    note.id
                )));
            }
            let sel = guid(&book.name, &format!("selection/{}/{start}/{end}", note.id));
            let mut el = BytesStart::new("PlainTextSelection");
            el.push_attribute(("guid", sel.as_str()));
            let name = format!("{start},{end}");
            el.push_attribute(("name", name.as_str()));
            el.push_attribute(("startPosition", start.to_string().as_str()));
            el.push_attribute(("endPosition", end.to_string().as_str()));
            el.push_attribute(("creatingUser", user.as_str()));
            w.write_event(Event::Start(el)).map_err(xml_err)?;
            for &k in codes {
                let code = book.codes.get(k).ok_or_else(|| {
                    Error::Codebook(format!(
                        "note {}: code index {k} is not in the codebook",
                        note.id
                    ))
                })?;
                let coding = guid(&book.name, &format!("coding/{sel}/{}", code.id));
                let mut c = BytesStart::new("Coding");
                c.push_attribute(("guid", coding.as_str()));
                c.push_attribute(("creatingUser", user.as_str()));
                w.write_event(Event::Start(c)).map_err(xml_err)?;
                let mut r = BytesStart::new("CodeRef");
                let target = guid(&book.name, &code.id);
                r.push_attribute(("targetGUID", target.as_str()));
                w.write_event(Event::Empty(r)).map_err(xml_err)?;
                w.write_event(Event::End(BytesEnd::new("Coding")))
                    .map_err(xml_err)?;
            }
            w.write_event(Event::End(BytesEnd::new("PlainTextSelection")))
                .map_err(xml_err)?;
        }
        w.write_event(Event::End(BytesEnd::new("TextSource")))
            .map_err(xml_err)?;
        files.push((format!("sources/{source}.txt"), note.text.as_bytes()));
    }
    w.write_event(Event::End(BytesEnd::new("Sources")))
        .map_err(xml_err)?;
    w.write_event(Event::End(BytesEnd::new("Project")))
        .map_err(xml_err)?;
    let qde = w.into_inner();

    let zip_err =
        |e: &dyn std::fmt::Display| Error::Codebook(format!("writing the .qdpx zip failed: {e}"));
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    // A fixed timestamp (1980-01-01) keeps the file identical from run to run.
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    zip.start_file("project.qde", options)
        .map_err(|e| zip_err(&e))?;
    zip.write_all(&qde).map_err(|e| zip_err(&e))?;
    for (name, bytes) in files {
        zip.start_file(name, options).map_err(|e| zip_err(&e))?;
        zip.write_all(bytes).map_err(|e| zip_err(&e))?;
    }
    Ok(zip.finish().map_err(|e| zip_err(&e))?.into_inner())
}

/// A `<Code>` element as read, with its children.
#[derive(Debug, Default)]
struct QdcCode {
    guid: String,
    name: String,
    codable: bool,
    color: Option<String>,
    description: String,
    children: Vec<QdcCode>,
}

fn parse_err(pos: u64, msg: impl std::fmt::Display) -> Error {
    Error::Codebook(format!("not a REFI-QDA codebook (byte {pos}): {msg}"))
}

/// Reads the `<Code>` tree of a `<CodeBook>` element (in a `.qdc` file or inside a project's `project.qde`)
/// from a stream of XML events.
#[derive(Default)]
struct CodeTree {
    stack: Vec<QdcCode>,
    top: Vec<QdcCode>,
    in_description: bool,
}

impl CodeTree {
    /// Takes one event inside `<CodeBook>`; `pos` is its byte offset, for messages.
    fn event(&mut self, event: &Event<'_>, pos: u64) -> Result<()> {
        match event {
            Event::Start(e) | Event::Empty(e) => {
                let empty = matches!(event, Event::Empty(_));
                match e.local_name().as_ref() {
                    b"Code" => {
                        let c = read_code(e, pos)?;
                        if empty {
                            attach(&mut self.stack, &mut self.top, c);
                        } else {
                            self.stack.push(c);
                        }
                    }
                    b"Description" if !empty => self.in_description = true,
                    _ => {}
                }
            }
            Event::Text(t) if self.in_description => {
                if let Some(c) = self.stack.last_mut() {
                    let text = t.xml_content().map_err(|err| parse_err(pos, err))?;
                    c.description.push_str(&text);
                }
            }
            // quick-xml reports `&amp;`, `&#233;` ... in text as events of their own.
            Event::GeneralRef(r) if self.in_description => {
                if let Some(c) = self.stack.last_mut() {
                    c.description.push_str(&resolve_ref(r, pos)?);
                }
            }
            Event::CData(t) if self.in_description => {
                if let Some(c) = self.stack.last_mut() {
                    c.description.push_str(&String::from_utf8_lossy(t));
                }
            }
            Event::End(e) => match e.local_name().as_ref() {
                b"Code" => {
                    let c = self
                        .stack
                        .pop()
                        .ok_or_else(|| parse_err(pos, "</Code> without <Code>"))?;
                    attach(&mut self.stack, &mut self.top, c);
                }
                b"Description" => self.in_description = false,
                _ => {}
            },
            _ => {}
        }
        Ok(())
    }
}

/// The text of an entity or character reference (`&amp;` -> `&`, `&#233;` -> `é`).
fn resolve_ref(r: &quick_xml::events::BytesRef<'_>, pos: u64) -> Result<String> {
    if let Some(ch) = r.resolve_char_ref().map_err(|err| parse_err(pos, err))? {
        return Ok(ch.to_string());
    }
    let name = r.decode().map_err(|err| parse_err(pos, err))?;
    quick_xml::escape::resolve_xml_entity(&name)
        .map(str::to_string)
        .ok_or_else(|| parse_err(pos, format!("unknown entity &{name};")))
}

fn read_code(e: &BytesStart<'_>, pos: u64) -> Result<QdcCode> {
    let mut c = QdcCode::default();
    let mut has_codable = false;
    for a in e.attributes() {
        let a = a.map_err(|err| parse_err(pos, err))?;
        let v = a
            .unescape_value()
            .map_err(|err| parse_err(pos, err))?
            .into_owned();
        match a.key.local_name().as_ref() {
            b"guid" => c.guid = v,
            b"name" => c.name = v,
            b"isCodable" => {
                has_codable = true;
                c.codable = matches!(v.trim(), "true" | "1");
            }
            b"color" => c.color = Some(v),
            _ => {}
        }
    }
    if c.name.trim().is_empty() {
        return Err(parse_err(pos, "a <Code> has no name"));
    }
    if !has_codable {
        return Err(parse_err(
            pos,
            format!("<Code name=\"{}\"> has no isCodable", c.name),
        ));
    }
    Ok(c)
}

/// Reads a REFI-QDA Codebook document (`.qdc`) into a notecoder codebook named `name`.
///
/// Errors with [`Error::Codebook`] when the XML is malformed, the root is not `CodeBook`, a `Code` lacks
/// `name` or `isCodable`, there is no codable code, or two codes of a domain make the same id.
pub fn from_qdc(xml: &str, name: &str) -> Result<Codebook> {
    let mut reader = Reader::from_str(xml);
    // Whitespace is trimmed per text event; entity references split a description into several events, so
    // trimming happens once at the end instead.
    reader.config_mut().trim_text(false);
    let mut tree = CodeTree::default();
    let mut saw_root = false;
    loop {
        let pos = reader.buffer_position();
        let event = reader.read_event().map_err(|e| parse_err(pos, e))?;
        if let Event::Start(e) | Event::Empty(e) = &event {
            let local = e.local_name();
            let tag = std::str::from_utf8(local.as_ref()).unwrap_or("");
            if tag == "CodeBook" {
                saw_root = true;
            } else if !saw_root {
                return Err(parse_err(
                    pos,
                    format!("the root element is <{tag}>, expected <CodeBook>"),
                ));
            }
        }
        if let Event::Eof = event {
            break;
        }
        tree.event(&event, pos)?;
    }
    if !saw_root {
        return Err(parse_err(0, "no <CodeBook> element"));
    }
    Ok(build(tree.top, name)?.0)
}

/// A coded selection of a project's text source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// First code point of the selection in the source text.
    pub start: usize,
    /// One past its last code point (end exclusive, as [`to_qdpx`] writes and QualCoder and qdpxlib read).
    pub end: usize,
    /// Indices into the imported codebook's codes, in document order, without repeats.
    pub codes: Vec<usize>,
}

/// A text source of a REFI-QDA project with its coded selections.
#[derive(Debug, Clone)]
pub struct ImportedSource {
    /// The source's `name` (its note id).
    pub name: String,
    /// The source's plain text.
    pub text: String,
    /// Selections with at least one coding by a codable code, in document order.
    pub selections: Vec<Selection>,
}

/// What [`from_qdpx`] read from a project.
#[derive(Debug, Clone)]
pub struct ImportedProject {
    /// The project's codebook, converted as [`from_qdc`] converts a `.qdc`.
    pub codebook: Codebook,
    /// Text sources, in document order.
    pub sources: Vec<ImportedSource>,
    /// Codings whose code is not codable or not in the codebook (left out, counted here).
    pub skipped_codings: usize,
    /// Sources that are not plain text (PDF, picture, audio ...; left out, counted here).
    pub skipped_sources: usize,
}

fn project_err(msg: impl std::fmt::Display) -> Error {
    Error::Codebook(format!("not a readable REFI-QDA project: {msg}"))
}

/// Reads a REFI-QDA project (`.qdpx` zip bytes): its codebook (named `name`), each `TextSource` with its text
/// (from `plainTextPath`, `internal://` paths resolved inside the zip's `sources/`, or an inline
/// `PlainTextContent`) and its `PlainTextSelection`s with their codings. Positions are Unicode code points, end
/// exclusive (see the module documentation); a selection past the end of its text is an error.
///
/// Errors with [`Error::Codebook`] when the bytes are not a zip, `project.qde` is missing or malformed, a
/// source's text is missing or not UTF-8, or a selection's positions are not numbers inside its text. Messages
/// name the source and selection, never their text.
pub fn from_qdpx(bytes: &[u8], name: &str) -> Result<ImportedProject> {
    use std::io::Read as _;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| project_err(format!("not a zip file ({e})")))?;
    let qde = {
        let mut f = zip
            .by_name("project.qde")
            .map_err(|_| project_err("the zip holds no project.qde"))?;
        let mut s = String::new();
        f.read_to_string(&mut s)
            .map_err(|e| project_err(format!("project.qde is not UTF-8 text ({e})")))?;
        s
    };
    let mut reader = Reader::from_str(&qde);
    reader.config_mut().trim_text(false);
    let mut tree = CodeTree::default();
    let mut in_codebook = false;
    let mut saw_project = false;
    struct RawSource {
        name: String,
        path: Option<String>,
        inline: Option<String>,
        selections: Vec<(String, String, String, Vec<String>)>, // name, start, end, code GUIDs
    }
    let mut raw: Vec<RawSource> = Vec::new();
    let mut in_source = false;
    let mut in_content = false;
    let mut in_selection = false;
    let mut skipped_sources = 0;
    loop {
        let pos = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| project_err(format!("project.qde byte {pos}: {e}")))?;
        if in_codebook {
            if let Event::End(e) = &event {
                if e.local_name().as_ref() == b"CodeBook" {
                    in_codebook = false;
                    continue;
                }
            }
            tree.event(&event, pos)?;
            continue;
        }
        match &event {
            Event::Start(e) | Event::Empty(e) => {
                let empty = matches!(event, Event::Empty(_));
                let attr = |key: &[u8]| -> Result<Option<String>> {
                    for a in e.attributes() {
                        let a = a.map_err(|err| project_err(format!("byte {pos}: {err}")))?;
                        if a.key.local_name().as_ref() == key {
                            let v = a
                                .unescape_value()
                                .map_err(|err| project_err(format!("byte {pos}: {err}")))?;
                            return Ok(Some(v.into_owned()));
                        }
                    }
                    Ok(None)
                };
                match e.local_name().as_ref() {
                    b"Project" => saw_project = true,
                    _ if !saw_project => {
                        return Err(project_err("project.qde's root element is not <Project>"))
                    }
                    b"CodeBook" if !empty => in_codebook = true,
                    b"TextSource" => {
                        raw.push(RawSource {
                            name: attr(b"name")?.unwrap_or_default(),
                            path: attr(b"plainTextPath")?,
                            inline: None,
                            selections: Vec::new(),
                        });
                        in_source = !empty;
                    }
                    b"PDFSource" | b"PictureSource" | b"AudioSource" | b"VideoSource" => {
                        skipped_sources += 1
                    }
                    b"PlainTextContent" if in_source && !empty => in_content = true,
                    b"PlainTextSelection" if in_source => {
                        let source = raw.last_mut().expect("inside a TextSource");
                        source.selections.push((
                            attr(b"name")?.or(attr(b"guid")?).unwrap_or_default(),
                            attr(b"startPosition")?.unwrap_or_default(),
                            attr(b"endPosition")?.unwrap_or_default(),
                            Vec::new(),
                        ));
                        in_selection = !empty;
                    }
                    b"CodeRef" if in_selection => {
                        if let Some(target) = attr(b"targetGUID")? {
                            let source = raw.last_mut().expect("inside a TextSource");
                            let sel = source.selections.last_mut().expect("inside a selection");
                            sel.3.push(target);
                        }
                    }
                    _ => {}
                }
            }
            Event::Text(t) if in_content => {
                let text = t
                    .xml_content()
                    .map_err(|err| project_err(format!("byte {pos}: {err}")))?;
                let source = raw.last_mut().expect("inside a TextSource");
                source
                    .inline
                    .get_or_insert_with(String::new)
                    .push_str(&text);
            }
            Event::GeneralRef(r) if in_content => {
                let text = resolve_ref(r, pos)?;
                let source = raw.last_mut().expect("inside a TextSource");
                source
                    .inline
                    .get_or_insert_with(String::new)
                    .push_str(&text);
            }
            Event::CData(t) if in_content => {
                let source = raw.last_mut().expect("inside a TextSource");
                source
                    .inline
                    .get_or_insert_with(String::new)
                    .push_str(&String::from_utf8_lossy(t));
            }
            Event::End(e) => match e.local_name().as_ref() {
                b"TextSource" => in_source = false,
                b"PlainTextContent" => in_content = false,
                b"PlainTextSelection" => in_selection = false,
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_project {
        return Err(project_err("project.qde has no <Project> element"));
    }
    let (codebook, by_guid) = build(tree.top, name)?;

    let mut skipped_codings = 0;
    let mut sources = Vec::with_capacity(raw.len());
    for (i, r) in raw.into_iter().enumerate() {
        let label = if r.name.is_empty() {
            format!("text source {}", i + 1)
        } else {
            format!("text source {:?}", r.name)
        };
        let text = match (r.inline, r.path) {
            (Some(t), _) => t,
            (None, Some(path)) => {
                let inside = match path.strip_prefix("internal://") {
                    Some(rest) => format!("sources/{rest}"),
                    None => {
                        return Err(project_err(format!(
                            "{label}: its text is outside the project ({path}); export the project with its sources embedded"
                        )))
                    }
                };
                let mut f = zip
                    .by_name(&inside)
                    .map_err(|_| project_err(format!("{label}: {inside} is not in the zip")))?;
                let mut buf = Vec::new();
                f.read_to_end(&mut buf)
                    .map_err(|e| project_err(format!("{label}: reading {inside}: {e}")))?;
                let s = String::from_utf8(buf)
                    .map_err(|_| project_err(format!("{label}: {inside} is not UTF-8")))?;
                s.strip_prefix('\u{FEFF}').map(str::to_string).unwrap_or(s)
            }
            (None, None) => {
                return Err(project_err(format!(
                    "{label} has neither plainTextPath nor PlainTextContent"
                )))
            }
        };
        let chars = text.chars().count();
        let mut selections = Vec::new();
        for (sel_name, start, end, refs) in r.selections {
            let num = |what: &str, v: &str| -> Result<usize> {
                v.trim().parse::<usize>().map_err(|_| {
                    project_err(format!(
                        "{label}, selection {sel_name:?}: {what} {v:?} is not a position"
                    ))
                })
            };
            let (start, end) = (num("startPosition", &start)?, num("endPosition", &end)?);
            if start > end || end > chars {
                return Err(project_err(format!(
                    "{label}, selection {sel_name:?}: positions {start}..{end} are outside its {chars} characters"
                )));
            }
            let mut codes = Vec::new();
            for g in refs {
                match by_guid.get(&g) {
                    Some(&k) if !codes.contains(&k) => codes.push(k),
                    Some(_) => {}
                    None => skipped_codings += 1,
                }
            }
            if !codes.is_empty() && start < end {
                selections.push(Selection { start, end, codes });
            }
        }
        sources.push(ImportedSource {
            name: r.name,
            text,
            selections,
        });
    }
    Ok(ImportedProject {
        codebook,
        sources,
        skipped_codings,
        skipped_sources,
    })
}

/// Labels the coding units of `text` (our segmenter's, [`crate::segment()`]) from coded selections: a unit
/// carries a code when a selection with that code covers at least half of the unit's characters, or when at
/// least half of the selection's characters lie inside the unit. So a phrase highlighted inside a sentence
/// codes the sentence, a selection over several sentences codes each of them, and a selection that spills a
/// character or two into the next sentence does not code it. Returns `(start, end, code indices)` per unit in
/// Unicode code points, end exclusive; units no selection reaches get no code.
pub fn label_units(text: &str, selections: &[Selection]) -> Vec<(usize, usize, Vec<usize>)> {
    let spans = crate::segment(text);
    let flat: Vec<usize> = spans.iter().flat_map(|s| [s.start, s.end]).collect();
    let cp = crate::offsets::map_offsets(text, &flat, crate::offsets::OffsetUnit::Scalar);
    cp.chunks(2)
        .map(|u| {
            let (a, b) = (u[0], u[1]);
            let mut codes: Vec<usize> = Vec::new();
            for s in selections {
                let overlap = b.min(s.end).saturating_sub(a.max(s.start));
                if overlap == 0 {
                    continue;
                }
                if 2 * overlap >= b - a || 2 * overlap >= s.end - s.start {
                    for &k in &s.codes {
                        if !codes.contains(&k) {
                            codes.push(k);
                        }
                    }
                }
            }
            codes.sort_unstable();
            (a, b, codes)
        })
        .collect()
}

fn attach(stack: &mut [QdcCode], top: &mut Vec<QdcCode>, c: QdcCode) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(c),
        None => top.push(c),
    }
}

/// `Risk & safety (current)` -> `risk_safety_current`.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for ch in name.chars().flat_map(char::to_lowercase) {
        if ch.is_ascii_alphanumeric() {
            out.push(ch);
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    let out = out.trim_end_matches('_').to_string();
    if out.is_empty() {
        "code".into()
    } else {
        out
    }
}

fn colour_of(c: &QdcCode) -> String {
    match c.color.as_deref().map(str::trim) {
        Some(s) if s.len() == 7 && s.starts_with('#') => s.to_ascii_lowercase(),
        Some(s) if s.len() == 4 && s.starts_with('#') => {
            let mut out = String::from("#");
            for ch in s[1..].chars() {
                out.push(ch);
                out.push(ch);
            }
            out.to_ascii_lowercase()
        }
        _ => "#888888".into(),
    }
}

fn collect_codable<'a>(c: &'a QdcCode, out: &mut Vec<&'a QdcCode>) {
    for child in &c.children {
        if child.codable {
            out.push(child);
        }
        collect_codable(child, out);
    }
}

/// The codebook of a code tree, and the code index of each codable `<Code>` by GUID.
fn build(
    top: Vec<QdcCode>,
    name: &str,
) -> Result<(Codebook, std::collections::HashMap<String, usize>)> {
    let mut by_guid = std::collections::HashMap::new();
    let mut domains = Vec::new();
    let mut codes: Vec<Code> = Vec::new();
    for d in &top {
        let mut domain_id = slug(&d.name);
        let mut n = 2;
        while domains.iter().any(|x: &Domain| x.id == domain_id) {
            domain_id = format!("{}_{n}", slug(&d.name));
            n += 1;
        }
        let mut members = Vec::new();
        collect_codable(d, &mut members);
        if members.is_empty() && d.codable {
            members.push(d);
        }
        if members.is_empty() {
            continue;
        }
        for m in members {
            let id = format!("{domain_id}.{}", slug(&m.name));
            if codes.iter().any(|c| c.id == id) {
                return Err(Error::Codebook(format!(
                    "two codes of \"{}\" are both named like \"{}\" (id {id})",
                    d.name, m.name
                )));
            }
            if !m.guid.is_empty() {
                by_guid.insert(m.guid.clone(), codes.len());
            }
            codes.push(Code {
                id,
                domain: domain_id.clone(),
                label: m.name.trim().to_string(),
                definition: m.description.trim().to_string(),
                use_when: String::new(),
                do_not_use_when: String::new(),
                colour: colour_of(m),
                threshold: 0.5,
            });
        }
        domains.push(Domain {
            id: domain_id,
            label: d.name.trim().to_string(),
            description: d.description.trim().to_string(),
        });
    }
    if codes.is_empty() {
        return Err(Error::Codebook(
            "the REFI-QDA codebook has no codable code".into(),
        ));
    }
    let book = Codebook {
        name: name.to_string(),
        version: String::new(),
        domains,
        codes,
    };
    let json = serde_json::to_vec(&book).map_err(|e| Error::Codebook(e.to_string()))?;
    Ok((Codebook::from_json(&json)?, by_guid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_are_stable_and_distinct() {
        assert_eq!(guid("book", "a.b"), guid("book", "a.b"));
        assert_ne!(guid("book", "a.b"), guid("book", "a.c"));
        assert_ne!(guid("book", "a.b"), guid("other", "a.b"));
        assert_eq!(guid("book", "a.b").len(), 36);
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("Risk & safety (current)"), "risk_safety_current");
        assert_eq!(slug("  Émotions  "), "motions");
        assert_eq!(slug("???"), "code");
    }

    #[test]
    fn a_foreign_codebook_with_nesting_and_short_colours_imports() {
        let xml = r##"<?xml version="1.0" encoding="utf-8"?>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="Other QDA 3">
  <Codes>
    <Code guid="11111111-1111-1111-1111-111111111111" name="Feelings" isCodable="false">
      <Description>How people feel</Description>
      <Code guid="11111111-1111-1111-1111-111111111112" name="Anger &amp; rage" isCodable="true" color="#f00"/>
      <Code guid="11111111-1111-1111-1111-111111111113" name="Calm" isCodable="true">
        <Code guid="11111111-1111-1111-1111-111111111114" name="Very calm" isCodable="true" color="#00FF00"/>
      </Code>
    </Code>
    <Code guid="11111111-1111-1111-1111-111111111115" name="Misc" isCodable="true"/>
  </Codes>
</CodeBook>"##;
        let book = from_qdc(xml, "feelings").unwrap();
        let ids: Vec<&str> = book.codes.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "feelings.anger_rage",
                "feelings.calm",
                "feelings.very_calm",
                "misc.misc"
            ]
        );
        assert_eq!(book.codes[0].label, "Anger & rage");
        assert_eq!(book.codes[0].colour, "#ff0000");
        assert_eq!(book.codes[2].colour, "#00ff00");
        assert_eq!(book.domains[0].description, "How people feel");
    }

    #[test]
    fn units_are_labeled_by_half_overlap() {
        // Units (code points): "Fell at recess." 0..15, "Knee scraped." 16..29, "Back to class." 30..44.
        let text = "Fell at recess. Knee scraped. Back to class.";
        let sel = |start, end, code| Selection {
            start,
            end,
            codes: vec![code],
        };
        let labeled = label_units(
            text,
            &[
                sel(5, 9, 0),   // a phrase inside unit 1: half of the selection is in it
                sel(3, 31, 1),  // 12 of 15 chars of unit 1, all of unit 2, 1 char of unit 3
                sel(40, 44, 2), // the last word of unit 3
            ],
        );
        assert_eq!(
            labeled,
            [(0, 15, vec![0, 1]), (16, 29, vec![1]), (30, 44, vec![2])]
        );
    }

    #[test]
    fn malformed_documents_are_refused_with_a_reason() {
        let err = |xml: &str| from_qdc(xml, "x").unwrap_err().to_string();
        assert!(err("<Project/>").contains("expected <CodeBook>"));
        assert!(
            err("<CodeBook><Codes><Code isCodable=\"true\"/></Codes></CodeBook>")
                .contains("has no name")
        );
        assert!(
            err("<CodeBook><Codes><Code name=\"a\" isCodable=\"false\"/></Codes></CodeBook>")
                .contains("no codable code")
        );
        assert!(err("<CodeBook><Codes><Code name=\"a\"").contains("not a REFI-QDA codebook"));
    }
}
