/**
 * Exact JSON: a small parser that keeps every scalar's text as written.
 *
 * `JSON.parse` turns `1.50` into `1.5` and rounds integers beyond 2^53, but
 * the dashboard must show a state exactly as Chronicle's canonical JSON
 * writes it. `parseExact` builds a tree whose leaves keep their lexeme
 * (`raw`); objects keep their members in text order (canonical JSON sorts
 * keys already).
 *
 * Node shapes:
 *   {kind: 'object', entries: [{key, raw, node}]}   key decoded, raw as written
 *   {kind: 'array', items: [node]}
 *   {kind: 'string', raw: '"paid"', value: 'paid'}
 *   {kind: 'number' | 'boolean' | 'null', raw: '1.50'}
 *
 * Paths are JSON Pointers (RFC 6901): "" is the root, "/items/apple/price"
 * a member.
 */

/** @typedef {{kind: 'object', entries: {key: string, raw: string, node: JsonNode}[]}
 *   | {kind: 'array', items: JsonNode[]}
 *   | {kind: 'string', raw: string, value: string}
 *   | {kind: 'number' | 'boolean' | 'null', raw: string}} JsonNode */

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERAL = /true|false|null/y;
const WHITESPACE = /[ \t\n\r]*/y;

/**
 * Parses JSON text into a tree that keeps each scalar's exact text.
 *
 * @param {string} text
 * @returns {JsonNode}
 * @throws {SyntaxError} on malformed JSON
 */
export function parseExact(text) {
  let pos = 0;

  const fail = (expected) => {
    throw new SyntaxError(`Invalid JSON at character ${pos}: expected ${expected}`);
  };
  const skipWhitespace = () => {
    WHITESPACE.lastIndex = pos;
    WHITESPACE.exec(text);
    pos = WHITESPACE.lastIndex;
  };
  const matchSticky = (re) => {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) return null;
    pos = re.lastIndex;
    return m[0];
  };

  // A string lexeme: scan to the closing quote (one not preceded by an odd
  // number of backslashes), then let JSON.parse validate and decode it.
  const string = () => {
    const start = pos;
    let end = pos + 1;
    for (;;) {
      const quote = text.indexOf('"', end);
      if (quote < 0) fail('a closing quote');
      let backslashes = 0;
      while (text[quote - 1 - backslashes] === '\\') backslashes++;
      end = quote + 1;
      if (backslashes % 2 === 0) break;
    }
    const raw = text.slice(start, end);
    let value;
    try {
      value = JSON.parse(raw);
    } catch {
      fail('a valid string');
    }
    pos = end;
    return { raw, value };
  };

  const value = () => {
    skipWhitespace();
    const c = text[pos];
    if (c === '{') return object();
    if (c === '[') return array();
    if (c === '"') return { kind: 'string', ...string() };
    if (c === 't' || c === 'f' || c === 'n') {
      const raw = matchSticky(LITERAL) ?? fail('true, false or null');
      return { kind: raw === 'null' ? 'null' : 'boolean', raw };
    }
    const raw = matchSticky(NUMBER) ?? fail('a value');
    return { kind: 'number', raw };
  };

  const object = () => {
    pos++; // '{'
    const entries = [];
    skipWhitespace();
    if (text[pos] === '}') {
      pos++;
      return { kind: 'object', entries };
    }
    for (;;) {
      skipWhitespace();
      if (text[pos] !== '"') fail('a member name');
      const { raw, value: key } = string();
      skipWhitespace();
      if (text[pos] !== ':') fail("':'");
      pos++;
      entries.push({ key, raw, node: value() });
      skipWhitespace();
      if (text[pos] === ',') {
        pos++;
      } else if (text[pos] === '}') {
        pos++;
        return { kind: 'object', entries };
      } else {
        fail("',' or '}'");
      }
    }
  };

  const array = () => {
    pos++; // '['
    const items = [];
    skipWhitespace();
    if (text[pos] === ']') {
      pos++;
      return { kind: 'array', items };
    }
    for (;;) {
      items.push(value());
      skipWhitespace();
      if (text[pos] === ',') {
        pos++;
      } else if (text[pos] === ']') {
        pos++;
        return { kind: 'array', items };
      } else {
        fail("',' or ']'");
      }
    }
  };

  const root = value();
  skipWhitespace();
  if (pos !== text.length) fail('the end of the text');
  return root;
}

/**
 * Whether a node is an object or an array.
 *
 * @param {JsonNode} node
 */
export function isContainer(node) {
  return node.kind === 'object' || node.kind === 'array';
}

/**
 * Number of members of a container (0 for scalars).
 *
 * @param {JsonNode} node
 */
export function sizeOf(node) {
  if (node.kind === 'object') return node.entries.length;
  if (node.kind === 'array') return node.items.length;
  return 0;
}

/**
 * The compact JSON text of a node, with every scalar exactly as parsed.
 *
 * @param {JsonNode} node
 * @returns {string}
 */
export function stringifyExact(node) {
  switch (node.kind) {
    case 'object':
      return `{${node.entries.map((e) => `${e.raw}:${stringifyExact(e.node)}`).join(',')}}`;
    case 'array':
      return `[${node.items.map(stringifyExact).join(',')}]`;
    default:
      return node.raw;
  }
}

/**
 * The pointer of a member: `childPointer("/items", "a/b")` → "/items/a~1b".
 *
 * @param {string} parent
 * @param {string|number} token
 */
export function childPointer(parent, token) {
  return `${parent}/${String(token).replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

/**
 * The node at a JSON Pointer, or undefined when there is none.
 *
 * @param {JsonNode} root
 * @param {string} pointer
 * @returns {JsonNode|undefined}
 */
export function nodeAt(root, pointer) {
  if (pointer === '') return root;
  if (!pointer.startsWith('/')) return undefined;
  let node = root;
  for (const escaped of pointer.slice(1).split('/')) {
    const token = escaped.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node.kind === 'object') {
      node = node.entries.find((e) => e.key === token)?.node;
    } else if (node.kind === 'array' && /^(0|[1-9]\d*)$/.test(token)) {
      node = node.items[Number(token)];
    } else {
      return undefined;
    }
    if (node === undefined) return undefined;
  }
  return node;
}
