// A tiny XML writer for S3 responses and a reader for the few S3 request bodies
// (CompleteMultipartUpload, Delete): elements, text and entities only, no dependency.

import { NimbusError } from '../../errors.js';

const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** Escape text for element content. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&apos;',
  );
}

/** A child of an element being written: a nested element, or undefined to skip it. */
export type XmlChild = string | undefined;

/** `<name>text</name>`, escaped; undefined (skipped) when `value` is undefined. */
export function el(name: string, value: string | number | boolean | undefined): XmlChild {
  if (value === undefined) return undefined;
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** `<name>children</name>` from already-written children. */
export function group(name: string, children: readonly XmlChild[]): string {
  return `<${name}>${children.filter((c) => c !== undefined).join('')}</${name}>`;
}

/** A whole S3 response document with the XML declaration and (unless `namespaced` is false) S3's namespace. */
export function document(root: string, children: readonly XmlChild[], namespaced = true): string {
  const ns = namespaced ? ` xmlns="${S3_NS}"` : '';
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root}${ns}>${children
    .filter((c) => c !== undefined)
    .join('')}</${root}>`;
}

/** A parsed XML element. */
export interface XmlElement {
  /** Local name (any `prefix:` dropped). */
  readonly name: string;
  readonly children: XmlElement[];
  /** Concatenated text content directly inside this element, entities decoded. */
  text: string;
}

function malformed(detail: string): NimbusError {
  return new NimbusError(
    'MalformedXML',
    `The XML you provided was not well-formed or did not validate against our published schema: ${detail}.`,
  );
}

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_m, e: string) => {
    if (e === 'amp') return '&';
    if (e === 'lt') return '<';
    if (e === 'gt') return '>';
    if (e === 'quot') return '"';
    if (e === 'apos') return "'";
    const code = e.startsWith('#x') ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    try {
      return String.fromCodePoint(code);
    } catch {
      throw malformed(`invalid character reference &${e};`);
    }
  });
}

const NAME_RE = /^[A-Za-z_][\w.:-]*/;

/** Parse an XML document into its root element. Throws MalformedXML. */
export function parseXml(source: string): XmlElement {
  let i = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  while (i < source.length) {
    const lt = source.indexOf('<', i);
    const text = lt < 0 ? source.slice(i) : source.slice(i, lt);
    if (text !== '') {
      const top = stack[stack.length - 1];
      if (top !== undefined) top.text += decodeEntities(text);
      else if (text.trim() !== '') throw malformed('text outside the root element');
    }
    if (lt < 0) break;
    if (source.startsWith('<?', lt)) {
      const end = source.indexOf('?>', lt);
      if (end < 0) throw malformed('unterminated processing instruction');
      i = end + 2;
    } else if (source.startsWith('<!--', lt)) {
      const end = source.indexOf('-->', lt);
      if (end < 0) throw malformed('unterminated comment');
      i = end + 3;
    } else if (source.startsWith('<![CDATA[', lt)) {
      const end = source.indexOf(']]>', lt);
      const top = stack[stack.length - 1];
      if (end < 0 || top === undefined) throw malformed('misplaced CDATA section');
      top.text += source.slice(lt + 9, end);
      i = end + 3;
    } else if (source.startsWith('<!', lt)) {
      throw malformed('DOCTYPE declarations are not accepted');
    } else if (source.startsWith('</', lt)) {
      const end = source.indexOf('>', lt);
      if (end < 0) throw malformed('unterminated closing tag');
      const name = source.slice(lt + 2, end).trim();
      const open = stack.pop();
      if (open === undefined || localName(name) !== open.name) throw malformed(`unexpected </${name}>`);
      i = end + 1;
    } else {
      const end = source.indexOf('>', lt);
      if (end < 0) throw malformed('unterminated tag');
      const inner = source.slice(lt + 1, end);
      const selfClosing = inner.endsWith('/');
      const m = NAME_RE.exec(inner);
      if (m === null) throw malformed(`bad tag <${inner.slice(0, 40)}>`);
      const element: XmlElement = { name: localName(m[0]), children: [], text: '' };
      const parent = stack[stack.length - 1];
      if (parent !== undefined) parent.children.push(element);
      else if (root === undefined) root = element;
      else throw malformed('more than one root element');
      if (!selfClosing) stack.push(element);
      i = end + 1;
    }
  }
  if (stack.length > 0) throw malformed(`<${stack[stack.length - 1]!.name}> is not closed`);
  if (root === undefined) throw malformed('the body is empty');
  return root;
}

function localName(name: string): string {
  const colon = name.indexOf(':');
  return colon < 0 ? name : name.slice(colon + 1);
}

/** The child elements named `name`. */
export function childrenNamed(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((c) => c.name === name);
}

/** The text of the first child named `name`, or undefined. */
export function childText(element: XmlElement, name: string): string | undefined {
  return element.children.find((c) => c.name === name)?.text;
}
