/**
 * GPT-2's byte-to-unicode table: every byte maps to a printable character, so byte-level BPE
 * vocabularies are plain strings ("Ġ" is the space byte 0x20).
 */

function buildTables(): { byteToChar: string[]; charToByte: Map<string, number> } {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const byteToChar: string[] = new Array(256);
  const charToByte = new Map<string, number>();
  bs.forEach((b, i) => {
    const ch = String.fromCodePoint(cs[i]!);
    byteToChar[b] = ch;
    charToByte.set(ch, b);
  });
  return { byteToChar, charToByte };
}

const { byteToChar, charToByte } = buildTables();
const encoder = new TextEncoder();

/** UTF-8 bytes of `text`, each mapped to its printable stand-in. */
export function toByteLevel(text: string): string {
  let out = "";
  for (const b of encoder.encode(text)) out += byteToChar[b];
  return out;
}

/** The bytes that a byte-level string stands for; characters outside the table are UTF-8 encoded. */
export function fromByteLevel(text: string): Uint8Array {
  const bytes: number[] = [];
  for (const ch of text) {
    const b = charToByte.get(ch);
    if (b !== undefined) bytes.push(b);
    else for (const x of encoder.encode(ch)) bytes.push(x);
  }
  return Uint8Array.from(bytes);
}

/** The byte-level characters in byte order (the 256 base symbols of a byte-level vocabulary). */
export const BYTE_LEVEL_ALPHABET: readonly string[] = byteToChar;
