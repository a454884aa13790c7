// A 3x5 bitmap font for axis labels and the legend: digits, a few symbols and the letters of
// "TRAIN EVAL STEP LOSS LOG SCALE". Enough for a readable plot without a text renderer.
const GLYPHS: Record<string, readonly string[]> = {
  "0": ["111", "101", "101", "101", "111"],
  "1": ["010", "110", "010", "010", "111"],
  "2": ["111", "001", "111", "100", "111"],
  "3": ["111", "001", "111", "001", "111"],
  "4": ["101", "101", "111", "001", "001"],
  "5": ["111", "100", "111", "001", "111"],
  "6": ["111", "100", "111", "101", "111"],
  "7": ["111", "001", "001", "001", "001"],
  "8": ["111", "101", "111", "101", "111"],
  "9": ["111", "101", "111", "001", "111"],
  ".": ["000", "000", "000", "000", "010"],
  "-": ["000", "000", "111", "000", "000"],
  "+": ["000", "010", "111", "010", "000"],
  "e": ["000", "111", "111", "100", "111"],
  " ": ["000", "000", "000", "000", "000"],
  "A": ["010", "101", "111", "101", "101"],
  "C": ["011", "100", "100", "100", "011"],
  "E": ["111", "100", "110", "100", "111"],
  "G": ["011", "100", "101", "101", "011"],
  "I": ["111", "010", "010", "010", "111"],
  "L": ["100", "100", "100", "100", "111"],
  "N": ["110", "101", "101", "101", "101"],
  "O": ["010", "101", "101", "101", "010"],
  "P": ["110", "101", "110", "100", "100"],
  "R": ["110", "101", "110", "101", "101"],
  "S": ["011", "100", "010", "001", "110"],
  "T": ["111", "010", "010", "010", "010"],
  "V": ["101", "101", "101", "101", "010"],
};

export const GLYPH_WIDTH = 3;
export const GLYPH_HEIGHT = 5;

/** Calls `dot(x, y)` for each lit cell of `text` (unknown characters render as blanks). */
export function forEachTextDot(text: string, dot: (x: number, y: number) => void): void {
  let cx = 0;
  for (const ch of text) {
    const g = GLYPHS[ch] ?? GLYPHS[ch.toUpperCase()] ?? GLYPHS[" "];
    for (let y = 0; y < GLYPH_HEIGHT; y++) for (let x = 0; x < GLYPH_WIDTH; x++) if (g[y][x] === "1") dot(cx + x, y);
    cx += GLYPH_WIDTH + 1;
  }
}

/** Width in font cells of `text` (no trailing space). */
export function textCells(text: string): number {
  return text.length === 0 ? 0 : [...text].length * (GLYPH_WIDTH + 1) - 1;
}
