// <note-coder>: suggests codebook codes for the text of a textarea while it is typed.
//
//   <textarea id="note"></textarea>
//   <note-coder for="note" model="models/coresponse-v1/"></note-coder>
//
// Importing this module defines nothing; call `NoteCoderElement.define()` (or load define.js).
//
// Attributes (each mirrored by a property): `for` (id of a textarea in the same document or shadow root;
// property `htmlFor`), `model` (model folder URL, relative to the page), `debounce` (ms after the last input
// before suggesting, default 150). Read-only attribute `state`: `loading`, `ready` or `error`.
//
// Events (bubbling, composed): `notecoder:ready` {codebook}, `notecoder:error` {error},
// `notecoder:suggestions` {text, codes}, `notecoder:change` {accepted: [code ids]}.
//
// Evidence is shown in an overlay that mirrors the textarea (same box, font and wrapping, scroll kept in step)
// with <mark> elements around the evidence sentences; the textarea's value, caret and selection are never
// touched. Evidence is only painted when it was computed for exactly the text the textarea holds.

import { createNoteCoder } from './notecoder.js';

const DEFAULT_DEBOUNCE_MS = 150;

const PANEL_CSS = `
:host {
  --nc-bg: #ffffff;
  --nc-fg: #1d2530;
  --nc-muted: #5d6b7a;
  --nc-border: #d9dee5;
  --nc-hover: #f3f6f9;
  --nc-accent: #1f6f5c;
  --nc-radius: 10px;
  display: block;
  color: var(--notecoder-fg, var(--nc-fg));
  font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
:host([hidden]) { display: none; }
* { box-sizing: border-box; }
.panel {
  background: var(--notecoder-bg, var(--nc-bg));
  border: 1px solid var(--notecoder-border, var(--nc-border));
  border-radius: var(--notecoder-radius, var(--nc-radius));
  padding: 14px 14px 10px;
}
.head { display: flex; align-items: baseline; justify-content: space-between; gap: 8px; margin-bottom: 8px; }
.title { font-weight: 650; font-size: 15px; }
.status { margin: 0; font-size: 12.5px; color: var(--notecoder-muted, var(--nc-muted)); text-align: right; }
:host([state="error"]) .status { color: #9b2c1f; font-weight: 600; }
.hint, .detail { margin: 6px 0 8px; color: var(--notecoder-muted, var(--nc-muted)); font-size: 13px; }
.groups[hidden], .hint[hidden], .detail[hidden], .foot[hidden] { display: none; }
.domain { margin-top: 10px; }
.domain-label {
  font-size: 11.5px; font-weight: 650; letter-spacing: 0.06em; text-transform: uppercase;
  color: var(--notecoder-muted, var(--nc-muted)); margin: 0 0 4px 2px;
}
ul { list-style: none; margin: 0; padding: 0; }
.none { margin: 0 0 0 2px; font-size: 13px; color: #8a96a3; }
.none[hidden] { display: none; }
.code {
  display: grid; grid-template-columns: 4px 1fr auto; align-items: center; column-gap: 10px;
  padding: 6px 6px 6px 8px; border-radius: 8px; margin: 2px 0; cursor: default; outline: none;
  border: 1px solid transparent;
}
.code[hidden] { display: none; }
.code:hover { background: var(--notecoder-hover, var(--nc-hover)); }
.code:focus-visible, .code.active { border-color: var(--code-colour); background: color-mix(in srgb, var(--code-colour) 9%, white); }
.code:focus-visible { box-shadow: 0 0 0 2px color-mix(in srgb, var(--code-colour) 35%, transparent); }
.swatch { width: 4px; align-self: stretch; border-radius: 2px; background: var(--code-colour); }
.text { min-width: 0; }
.label { display: block; font-weight: 560; }
.meta { display: block; font-size: 12px; color: var(--notecoder-muted, var(--nc-muted)); font-variant-numeric: tabular-nums; }
.actions { display: flex; gap: 4px; }
button {
  display: inline-grid; place-items: center; width: 28px; height: 28px; padding: 0;
  border: 1px solid var(--notecoder-border, var(--nc-border)); border-radius: 7px; background: #fff;
  color: var(--notecoder-muted, var(--nc-muted)); cursor: pointer;
}
button:hover { color: var(--notecoder-fg, var(--nc-fg)); border-color: #aeb8c4; }
button:focus-visible { outline: 2px solid var(--notecoder-accent, var(--nc-accent)); outline-offset: 1px; }
button svg { width: 14px; height: 14px; fill: none; stroke: currentColor; stroke-width: 2.4; stroke-linecap: round; stroke-linejoin: round; }
.accept[aria-pressed="true"] { background: var(--notecoder-accent, var(--nc-accent)); border-color: var(--notecoder-accent, var(--nc-accent)); color: #fff; }
.dismiss[aria-pressed="true"] { background: #eef0f3; color: var(--notecoder-fg, var(--nc-fg)); }
.code.accepted .label::after { content: " · accepted"; font-weight: 500; font-size: 12px; color: var(--notecoder-accent, var(--nc-accent)); }
.code.dismissed .label, .code.dismissed .meta { text-decoration: line-through; opacity: 0.55; }
.code.dismissed .swatch { opacity: 0.35; }
.code.faded .meta { font-style: italic; }
.foot { margin: 10px 2px 0; padding-top: 8px; border-top: 1px solid var(--notecoder-border, var(--nc-border)); font-size: 12px; color: var(--notecoder-muted, var(--nc-muted)); }
`;

/** One stylesheet per document, made on first use rather than on import. */
const sheets = new WeakMap();
function panelSheet(doc) {
  let sheet = sheets.get(doc);
  if (!sheet) {
    sheet = new (doc.defaultView ?? window).CSSStyleSheet();
    sheet.replaceSync(PANEL_CSS);
    sheets.set(doc, sheet);
  }
  return sheet;
}

/** Computed properties of the textarea copied to the overlay so that its text lays out identically. */
const MIRRORED = [
  'boxSizing', 'fontFamily', 'fontSize', 'fontWeight', 'fontStyle', 'fontStretch', 'fontVariant',
  'fontFeatureSettings', 'fontVariationSettings', 'fontKerning', 'fontOpticalSizing', 'letterSpacing', 'wordSpacing',
  'lineHeight', 'textAlign', 'textIndent', 'textTransform', 'textRendering', 'tabSize', 'direction', 'writingMode',
  'whiteSpace', 'overflowWrap', 'wordBreak', 'hyphens', 'paddingTop', 'paddingBottom', 'paddingLeft',
  'borderTopWidth', 'borderRightWidth', 'borderBottomWidth', 'borderLeftWidth', 'borderTopLeftRadius',
  'borderTopRightRadius', 'borderBottomLeftRadius', 'borderBottomRightRadius',
];

const SVG_NS = 'http://www.w3.org/2000/svg';
const ICONS = { accept: 'M3.5 8.5l3 3 6-7', dismiss: 'M4 4l8 8M12 4l-8 8' };

function el(doc, tag, props = {}, children = []) {
  const node = doc.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

function icon(doc, name) {
  const svg = doc.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 16 16');
  svg.setAttribute('aria-hidden', 'true');
  const path = doc.createElementNS(SVG_NS, 'path');
  path.setAttribute('d', ICONS[name]);
  svg.append(path);
  return svg;
}

const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

export class NoteCoderElement extends HTMLElement {
  static observedAttributes = ['for', 'model', 'debounce'];

  /**
   * Registers the element. Safe to call more than once: a tag already defined is left as it is.
   * @param {string} [tag]
   * @param {CustomElementRegistry} [registry]
   */
  static define(tag = 'note-coder', registry = customElements) {
    if (registry.get(tag)) return registry.get(tag);
    // A class can only be registered once per registry; a second tag gets a subclass.
    const taken = typeof registry.getName === 'function' && registry.getName(this);
    const cls = taken ? class extends this {} : this;
    registry.define(tag, cls);
    return cls;
  }

  #shadow = null;
  #ui = null; // {status, hint, detail, groups, foot, items: Map<id, {li, meta, accept, dismiss, code}>, domains}
  #textarea = null;
  #rootObserver = null;
  #resizeObserver = null;
  #overlay = null;
  #coder = null;
  #codebook = null;
  #loadToken = 0;
  #timer = 0;
  #result = null; // {text, codes}
  #accepted = new Set();
  #dismissed = new Set();
  #hovered = null;
  #focused = null;
  #error = null;
  #statusText = '';
  #painted = '';

  constructor() {
    super();
    this.#shadow = this.attachShadow({ mode: 'open' });
  }

  // ---- attributes and properties ----

  get htmlFor() { return this.getAttribute('for') ?? ''; }
  set htmlFor(v) { this.setAttribute('for', v); }
  get model() { return this.getAttribute('model') ?? ''; }
  set model(v) { this.setAttribute('model', v); }
  get debounce() {
    const n = Number.parseInt(this.getAttribute('debounce') ?? '', 10);
    return Number.isFinite(n) && n >= 0 ? n : DEFAULT_DEBOUNCE_MS;
  }
  set debounce(v) { this.setAttribute('debounce', String(v)); }
  /** `loading`, `ready` or `error`. */
  get state() { return this.getAttribute('state') ?? 'loading'; }
  /** The textarea the element is attached to, or null. */
  get control() { return this.#textarea; }
  /** The codebook of the loaded model, or null. */
  get codebook() { return this.#codebook; }
  /** Why the model could not be loaded, or null. */
  get error() { return this.#error; }
  /** The latest suggestions, the text they were computed for and how it was read (`coverage`), or null. */
  get suggestions() {
    return this.#result ? { text: this.#result.text, codes: this.#result.codes, coverage: this.#result.coverage } : null;
  }
  /** Ids of the accepted codes, in codebook order. Setting it does not fire `notecoder:change`. */
  get accepted() { return this.#orderedAccepted(); }
  set accepted(ids) {
    this.#accepted = new Set(ids);
    for (const id of this.#accepted) this.#dismissed.delete(id);
    this.#render();
  }

  /** Forgets accepted and dismissed codes (for a new note); fires `notecoder:change` if any were accepted. */
  reset() {
    const had = this.#accepted.size > 0;
    this.#accepted.clear();
    this.#dismissed.clear();
    this.#render();
    if (had) this.#emit('notecoder:change', { accepted: [] });
  }

  /** Suggests for the textarea's current value now, without waiting for the debounce. */
  refresh() {
    clearTimeout(this.#timer);
    this.#suggestNow();
  }

  // ---- lifecycle ----

  connectedCallback() {
    if (!this.#ui) this.#build();
    if (!this.hasAttribute('state')) this.setAttribute('state', 'loading');
    this.#attach();
    if (!this.#coder && !this.#error) this.#load();
  }

  disconnectedCallback() {
    this.#detach();
    this.#unload();
  }

  attributeChangedCallback(name, oldValue, newValue) {
    if (!this.isConnected || oldValue === newValue || !this.#ui) return;
    if (name === 'for') {
      this.#detach();
      this.#attach();
      this.#suggestNow();
    } else if (name === 'model') {
      this.#unload();
      this.#load();
    }
  }

  // ---- model ----

  async #load() {
    const token = ++this.#loadToken;
    this.#error = null;
    this.setAttribute('state', 'loading');
    this.#setStatus('Loading the coding model…');
    this.#render();
    try {
      if (!this.model) throw new TypeError('the `model` attribute (a model folder URL) is missing');
      const coder = await createNoteCoder({ model: this.model });
      if (token !== this.#loadToken) {
        coder.dispose();
        return;
      }
      this.#coder = coder;
      this.#codebook = coder.codebook;
      this.#buildCodes();
      this.setAttribute('state', 'ready');
      this.#emit('notecoder:ready', { codebook: coder.codebook });
      this.#suggestNow();
    } catch (err) {
      if (token !== this.#loadToken) return;
      this.#error = err;
      this.setAttribute('state', 'error');
      // The message names the model file and the problem; it never contains note text.
      console.warn(`notecoder: suggestions unavailable: ${err.message}`);
      this.#setStatus('Suggestions unavailable');
      this.#render();
      this.#emit('notecoder:error', { error: err });
    }
  }

  #unload() {
    this.#loadToken++;
    clearTimeout(this.#timer);
    this.#coder?.dispose();
    this.#coder = null;
    this.#error = null;
    this.#result = null;
  }

  async #suggestNow() {
    const coder = this.#coder;
    const textarea = this.#textarea;
    if (coder && !textarea) {
      // Ready, but `for` names no textarea (yet): say so instead of looking busy.
      this.#setStatus(`Waiting for a textarea with id “${this.htmlFor}”`);
      return;
    }
    if (!coder || !textarea) return;
    const text = textarea.value;
    let answer;
    try {
      answer = await coder.suggest(text);
    } catch (err) {
      if (err.name === 'AbortError' || coder !== this.#coder) return;
      console.warn(`notecoder: suggest failed: ${err.message}`);
      this.#setStatus('Suggestions unavailable');
      return;
    }
    if (answer.superseded || coder !== this.#coder || textarea !== this.#textarea) return;
    this.#result = { text, codes: answer.codes, coverage: answer.coverage };
    this.#render();
    this.#emit('notecoder:suggestions', { text, codes: answer.codes, coverage: answer.coverage });
  }

  // ---- textarea and overlay ----

  #attach() {
    const id = this.htmlFor;
    const root = this.getRootNode();
    const found = id && typeof root.getElementById === 'function' ? root.getElementById(id) : null;
    if (!(found instanceof HTMLTextAreaElement)) {
      // The textarea may be parsed or inserted after this element: watch the root until it appears.
      if (id && !this.#rootObserver && root instanceof Node) {
        console.warn(`notecoder: no <textarea id="${id}"> in this document yet; <note-coder> waits for it`);
        this.#rootObserver = new MutationObserver(() => {
          if (root.getElementById(id) instanceof HTMLTextAreaElement) {
            this.#rootObserver.disconnect();
            this.#rootObserver = null;
            this.#attach();
            this.#suggestNow();
          }
        });
        this.#rootObserver.observe(root, { childList: true, subtree: true });
      }
      return;
    }
    const textarea = found;
    this.#textarea = textarea;
    textarea.addEventListener('input', this.#onInput);
    textarea.addEventListener('scroll', this.#onScroll, { passive: true });
    const doc = textarea.ownerDocument;
    const overlay = doc.createElement('div');
    overlay.setAttribute('aria-hidden', 'true');
    overlay.dataset.notecoderOverlay = '';
    Object.assign(overlay.style, {
      position: 'absolute', left: '0px', top: '0px', margin: '0', overflow: 'hidden', pointerEvents: 'none',
      color: 'transparent', background: 'transparent', borderStyle: 'solid', borderColor: 'transparent',
      mixBlendMode: 'multiply', visibility: 'hidden', userSelect: 'none',
    });
    textarea.after(overlay);
    this.#overlay = overlay;
    this.#resizeObserver = new ResizeObserver(() => this.#syncOverlay());
    this.#resizeObserver.observe(textarea);
    doc.defaultView?.addEventListener('resize', this.#onWindowResize);
  }

  #detach() {
    this.#rootObserver?.disconnect();
    this.#rootObserver = null;
    this.#resizeObserver?.disconnect();
    this.#resizeObserver = null;
    const textarea = this.#textarea;
    if (textarea) {
      textarea.removeEventListener('input', this.#onInput);
      textarea.removeEventListener('scroll', this.#onScroll);
      textarea.ownerDocument.defaultView?.removeEventListener('resize', this.#onWindowResize);
    }
    this.#overlay?.remove();
    this.#overlay = null;
    this.#textarea = null;
    this.#painted = '';
  }

  #onInput = () => {
    // The text changed: evidence on screen now points at the wrong characters.
    this.#paint();
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#suggestNow(), this.debounce);
  };

  #onScroll = () => {
    if (!this.#overlay || !this.#textarea) return;
    this.#overlay.scrollTop = this.#textarea.scrollTop;
    this.#overlay.scrollLeft = this.#textarea.scrollLeft;
  };

  #onWindowResize = () => this.#syncOverlay();

  /** Gives the overlay the textarea's box, font, wrapping and scroll position. */
  #syncOverlay() {
    const ta = this.#textarea;
    const ov = this.#overlay;
    if (!ta || !ov) return;
    const cs = getComputedStyle(ta);
    for (const p of MIRRORED) ov.style[p] = cs[p];
    ov.style.boxSizing = 'border-box';
    ov.style.width = `${ta.offsetWidth}px`;
    ov.style.height = `${ta.offsetHeight}px`;
    // The textarea's scrollbar narrows its text; the overlay has none, so it pads by the same width.
    const bl = parseFloat(cs.borderLeftWidth) || 0;
    const br = parseFloat(cs.borderRightWidth) || 0;
    const scrollbar = Math.max(0, ta.offsetWidth - ta.clientWidth - bl - br);
    ov.style.paddingRight = `${(parseFloat(cs.paddingRight) || 0) + scrollbar}px`;
    if (cs.zIndex !== 'auto') ov.style.zIndex = cs.zIndex;
    const a = ta.getBoundingClientRect();
    const b = ov.getBoundingClientRect();
    ov.style.left = `${(parseFloat(ov.style.left) || 0) + a.left - b.left}px`;
    ov.style.top = `${(parseFloat(ov.style.top) || 0) + a.top - b.top}px`;
    this.#onScroll();
  }

  /** Marks the evidence of the hovered (else focused) code, if it was computed for the current text. */
  #paint() {
    const ta = this.#textarea;
    const ov = this.#overlay;
    if (!ta || !ov) return;
    const id = this.#hovered ?? this.#focused;
    const current = this.#result && this.#result.text === ta.value ? this.#result : null;
    const suggestion = id && current ? current.codes.find((c) => c.id === id) : null;
    const evidence = suggestion ? suggestion.evidence : [];
    if (evidence.length === 0) {
      if (this.#painted) {
        ov.replaceChildren();
        ov.style.visibility = 'hidden';
        this.#painted = '';
      }
      return;
    }
    const key = `${id}\u0000${current.text.length}\u0000${evidence.map((e) => `${e.start}-${e.end}`).join(',')}`;
    if (key !== this.#painted || ov.childNodes.length === 0) {
      const doc = ta.ownerDocument;
      const colour = this.#codebook?.codes.find((c) => c.id === id)?.colour ?? '#e0b000';
      const text = current.text;
      const nodes = [];
      let at = 0;
      for (const { start, end } of evidence) {
        if (start < at || end > text.length) continue;
        if (start > at) nodes.push(doc.createTextNode(text.slice(at, start)));
        const mark = doc.createElement('mark');
        mark.dataset.code = id;
        mark.textContent = text.slice(start, end);
        Object.assign(mark.style, {
          color: 'transparent', padding: '0', margin: '0', borderRadius: '3px',
          backgroundColor: `color-mix(in srgb, ${colour} 24%, transparent)`,
          boxShadow: `inset 0 -2px 0 color-mix(in srgb, ${colour} 85%, transparent)`,
          boxDecorationBreak: 'clone', webkitBoxDecorationBreak: 'clone',
        });
        nodes.push(mark);
        at = end;
      }
      // The zero-width space keeps a trailing newline's empty last line, as in the textarea.
      nodes.push(doc.createTextNode(`${text.slice(at)}\u200b`));
      ov.replaceChildren(...nodes);
      this.#painted = key;
    }
    this.#syncOverlay();
    ov.style.visibility = 'visible';
  }

  // ---- panel ----

  #build() {
    const doc = this.ownerDocument;
    this.#shadow.adoptedStyleSheets = [panelSheet(doc)];
    const status = el(doc, 'p', { class: 'status', role: 'status', 'aria-live': 'polite', part: 'status' });
    const hint = el(doc, 'p', { class: 'hint', text: 'Suggestions appear here as you type.' });
    const detail = el(doc, 'p', { class: 'detail', text: 'The note can still be written; codes will not be suggested.' });
    const groups = el(doc, 'div', { class: 'groups' });
    const foot = el(doc, 'p', { class: 'foot', text: 'Hover or focus a code to highlight its evidence. Enter accepts, Delete dismisses.' });
    const panel = el(doc, 'div', { class: 'panel', part: 'panel' }, [
      el(doc, 'div', { class: 'head' }, [el(doc, 'div', { class: 'title', part: 'title', text: 'Suggested codes' }), status]),
      hint,
      detail,
      groups,
      foot,
    ]);
    this.#shadow.replaceChildren(panel);
    this.#ui = { status, hint, detail, groups, foot, items: new Map(), domains: [] };
    groups.addEventListener('click', this.#onClick);
    groups.addEventListener('keydown', this.#onKeyDown);
  }

  /** One item per codebook code, grouped by domain; items are shown and hidden, never rebuilt while typing. */
  #buildCodes() {
    const doc = this.ownerDocument;
    const ui = this.#ui;
    ui.items.clear();
    ui.domains = [];
    const groups = [];
    for (const domain of this.#codebook.domains) {
      const labelId = `nc-domain-${domain.id}`;
      const list = el(doc, 'ul');
      const none = el(doc, 'p', { class: 'none', text: 'None suggested' });
      const group = el(doc, 'div', { class: 'domain', role: 'group', 'aria-labelledby': labelId, 'data-domain': domain.id }, [
        el(doc, 'div', { class: 'domain-label', id: labelId, text: domain.label, title: domain.description }),
        list,
        none,
      ]);
      const items = [];
      for (const code of this.#codebook.codes.filter((c) => c.domain === domain.id)) {
        const meta = el(doc, 'span', { class: 'meta' });
        const accept = el(doc, 'button', { type: 'button', class: 'accept', 'aria-pressed': 'false', 'aria-label': `Accept ${code.label}`, title: 'Accept' }, [icon(doc, 'accept')]);
        const dismiss = el(doc, 'button', { type: 'button', class: 'dismiss', 'aria-pressed': 'false', 'aria-label': `Dismiss ${code.label}`, title: 'Dismiss' }, [icon(doc, 'dismiss')]);
        const li = el(doc, 'li', { class: 'code', tabindex: '0', 'data-code': code.id, title: code.definition, hidden: '' }, [
          el(doc, 'span', { class: 'swatch' }),
          el(doc, 'span', { class: 'text' }, [el(doc, 'span', { class: 'label', text: code.label }), meta]),
          el(doc, 'span', { class: 'actions' }, [accept, dismiss]),
        ]);
        li.style.setProperty('--code-colour', code.colour);
        li.addEventListener('pointerenter', () => this.#setActive('hovered', code.id));
        li.addEventListener('pointerleave', () => this.#setActive('hovered', null));
        li.addEventListener('focusin', () => this.#setActive('focused', code.id));
        li.addEventListener('focusout', (e) => {
          if (!li.contains(e.relatedTarget)) this.#setActive('focused', null);
        });
        list.append(li);
        const item = { li, meta, accept, dismiss, code };
        ui.items.set(code.id, item);
        items.push(item);
      }
      ui.domains.push({ group, none, items });
      groups.push(group);
    }
    ui.groups.replaceChildren(...groups);
  }

  #setActive(which, id) {
    if (which === 'hovered') this.#hovered = id;
    else this.#focused = id;
    const active = this.#hovered ?? this.#focused;
    for (const [codeId, item] of this.#ui.items) item.li.classList.toggle('active', codeId === active);
    this.#paint();
  }

  #onClick = (event) => {
    const button = event.target.closest('button');
    const li = event.target.closest('.code');
    if (!button || !li) return;
    if (button.classList.contains('accept')) this.#toggleAccept(li.dataset.code);
    else if (button.classList.contains('dismiss')) this.#toggleDismiss(li.dataset.code);
  };

  #onKeyDown = (event) => {
    const li = event.target.closest('.code');
    if (!li || event.altKey || event.ctrlKey || event.metaKey) return;
    const onItem = event.target === li;
    if (onItem && (event.key === 'Enter' || event.key === ' ')) {
      event.preventDefault();
      this.#toggleAccept(li.dataset.code);
    } else if (onItem && (event.key === 'Delete' || event.key === 'Backspace')) {
      event.preventDefault();
      this.#toggleDismiss(li.dataset.code);
    } else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      const visible = [...this.#ui.items.values()].map((i) => i.li).filter((x) => !x.hidden);
      const next = visible[visible.indexOf(li) + (event.key === 'ArrowDown' ? 1 : -1)];
      next?.focus();
    }
  };

  #toggleAccept(id) {
    if (this.#accepted.has(id)) this.#accepted.delete(id);
    else {
      this.#accepted.add(id);
      this.#dismissed.delete(id);
    }
    this.#render();
    this.#emit('notecoder:change', { accepted: this.#orderedAccepted() });
  }

  #toggleDismiss(id) {
    const wasAccepted = this.#accepted.delete(id);
    if (this.#dismissed.has(id)) this.#dismissed.delete(id);
    else this.#dismissed.add(id);
    this.#render();
    if (wasAccepted) this.#emit('notecoder:change', { accepted: this.#orderedAccepted() });
  }

  #orderedAccepted() {
    const order = this.#codebook?.codes.map((c) => c.id) ?? [];
    return [...this.#accepted].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  }

  #setStatus(text) {
    // Only a changed message is written, so the live region is not re-announced on every keystroke.
    if (text === this.#statusText) return;
    this.#statusText = text;
    this.#ui.status.textContent = text;
  }

  #render() {
    const ui = this.#ui;
    if (!ui) return;
    const failed = this.state === 'error';
    const hasText = !!this.#result && this.#result.text.trim() !== '';
    ui.detail.hidden = !failed;
    ui.hint.hidden = failed || (hasText && !!this.#codebook) || this.state !== 'ready';
    ui.groups.hidden = failed || !hasText;
    ui.foot.hidden = failed || !hasText;
    if (failed || !this.#codebook) return;

    const byId = new Map((this.#result?.codes ?? []).map((c) => [c.id, c]));
    const previousFocus = this.#shadow.activeElement?.closest?.('.code');
    let suggested = 0;
    for (const { none, items } of ui.domains) {
      let shown = 0;
      for (const { li, meta, accept, dismiss, code } of items) {
        const s = byId.get(code.id);
        const isSuggested = !!s?.suggested;
        const isAccepted = this.#accepted.has(code.id);
        const isDismissed = this.#dismissed.has(code.id);
        li.hidden = !(isSuggested || isAccepted);
        li.classList.toggle('accepted', isAccepted);
        li.classList.toggle('dismissed', isDismissed);
        li.classList.toggle('faded', isAccepted && !isSuggested);
        accept.setAttribute('aria-pressed', String(isAccepted));
        dismiss.setAttribute('aria-pressed', String(isDismissed));
        const pct = `${Math.round((s?.score ?? 0) * 100)}%`;
        const n = s?.evidence.length ?? 0;
        meta.textContent = isSuggested ? `${pct} · ${plural(n, 'sentence')}` : `${pct} · no longer suggested`;
        if (!li.hidden) shown++;
        if (isSuggested) suggested++;
      }
      none.hidden = shown > 0;
    }
    if (previousFocus?.hidden) ui.groups.querySelector('.code:not([hidden])')?.focus();
    if (this.state === 'ready') this.#setStatus(hasText ? `${plural(suggested, 'code')} suggested` : 'Ready');
    this.#paint();
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { bubbles: true, composed: true, detail }));
  }
}
