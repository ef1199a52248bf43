// JSON with exact numbers, for tests that hand the vector files' events to the
// wasm module: JavaScript's JSON.parse would turn 1.50 into 1.5 and round big
// integers, so numbers are kept as their text and written back unchanged.

export class ExactNumber {
  constructor(text) { this.text = text; }
}

/** Parses JSON text; numbers become ExactNumber. */
export function parse(text) {
  let i = 0;
  const fail = (what) => { throw new SyntaxError(`${what} at offset ${i}`); };
  const ws = () => { while (/\s/.test(text[i] ?? '')) i++; };
  function value() {
    ws();
    const c = text[i];
    if (c === '{') {
      i++; const out = {}; ws();
      if (text[i] === '}') { i++; return out; }
      for (;;) {
        ws(); const k = string(); ws();
        if (text[i++] !== ':') fail('expected :');
        out[k] = value(); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i++] === '}') return out;
        fail('expected , or }');
      }
    }
    if (c === '[') {
      i++; const out = []; ws();
      if (text[i] === ']') { i++; return out; }
      for (;;) {
        out.push(value()); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i++] === ']') return out;
        fail('expected , or ]');
      }
    }
    if (c === '"') return string();
    const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (m) { i += m[0].length; return new ExactNumber(m[0]); }
    for (const [word, v] of [['true', true], ['false', false], ['null', null]]) {
      if (text.startsWith(word, i)) { i += word.length; return v; }
    }
    fail('unexpected character');
  }
  function string() {
    if (text[i] !== '"') fail('expected a string');
    const start = i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i));
  }
  const v = value(); ws();
  if (i !== text.length) fail('trailing text');
  return v;
}

/** Writes a value parsed by `parse` back as JSON text, numbers unchanged. */
export function stringify(v) {
  if (v instanceof ExactNumber) return v.text;
  if (Array.isArray(v)) return `[${v.map(stringify).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${stringify(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
