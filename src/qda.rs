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
    name: String,
    codable: bool,
    color: Option<String>,
    description: String,
    children: Vec<QdcCode>,
}

fn parse_err(pos: u64, msg: impl std::fmt::Display) -> Error {
    Error::Codebook(format!("not a REFI-QDA codebook (byte {pos}): {msg}"))
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
    let mut stack: Vec<QdcCode> = Vec::new();
    let mut top: Vec<QdcCode> = Vec::new();
    let mut in_description = false;
    let mut saw_root = false;
    loop {
        let pos = reader.buffer_position();
        let event = reader.read_event().map_err(|e| parse_err(pos, e))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let local = e.local_name();
                let tag = std::str::from_utf8(local.as_ref()).unwrap_or("");
                let empty = matches!(event, Event::Empty(_));
                match tag {
                    "CodeBook" => saw_root = true,
                    _ if !saw_root => {
                        return Err(parse_err(
                            pos,
                            format!("the root element is <{tag}>, expected <CodeBook>"),
                        ))
                    }
                    "Code" => {
                        let mut c = QdcCode::default();
                        let mut has_codable = false;
                        for a in e.attributes() {
                            let a = a.map_err(|err| parse_err(pos, err))?;
                            let v = a
                                .unescape_value()
                                .map_err(|err| parse_err(pos, err))?
                                .into_owned();
                            match a.key.local_name().as_ref() {
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
                        if empty {
                            attach(&mut stack, &mut top, c);
                        } else {
                            stack.push(c);
                        }
                    }
                    "Description" if !empty => in_description = true,
                    _ => {}
                }
            }
            Event::Text(t) if in_description => {
                if let Some(c) = stack.last_mut() {
                    let text = t.xml_content().map_err(|err| parse_err(pos, err))?;
                    c.description.push_str(&text);
                }
            }
            // quick-xml reports `&amp;`, `&#233;` ... in text as events of their own.
            Event::GeneralRef(r) if in_description => {
                if let Some(c) = stack.last_mut() {
                    if let Some(ch) = r.resolve_char_ref().map_err(|err| parse_err(pos, err))? {
                        c.description.push(ch);
                    } else {
                        let name = r.decode().map_err(|err| parse_err(pos, err))?;
                        let value = quick_xml::escape::resolve_xml_entity(&name)
                            .ok_or_else(|| parse_err(pos, format!("unknown entity &{name};")))?;
                        c.description.push_str(value);
                    }
                }
            }
            Event::CData(t) if in_description => {
                if let Some(c) = stack.last_mut() {
                    c.description.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::End(e) => match e.local_name().as_ref() {
                b"Code" => {
                    let c = stack
                        .pop()
                        .ok_or_else(|| parse_err(pos, "</Code> without <Code>"))?;
                    attach(&mut stack, &mut top, c);
                }
                b"Description" => in_description = false,
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_root {
        return Err(parse_err(0, "no <CodeBook> element"));
    }
    build(top, name)
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

fn build(top: Vec<QdcCode>, name: &str) -> Result<Codebook> {
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
    Codebook::from_json(&json)
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
