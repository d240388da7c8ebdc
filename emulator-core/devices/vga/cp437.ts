/**
 * Code page 437 (the VGA BIOS font's character set) to Unicode, for reading the text
 * screen back as strings. NUL reads as a space, as it looks on screen.
 */
const LOW =
  ' ☺☻♥♦♣♠•◘○◙♂♀♪♫☼' + //
  '►◄↕‼¶§▬↨↑↓→←∟↔▲▼';
const HIGH =
  'ÇüéâäàåçêëèïîìÄÅ' +
  'ÉæÆôöòûùÿÖÜ¢£¥₧ƒ' +
  'áíóúñÑªº¿⌐¬½¼¡«»' +
  '░▒▓│┤╡╢╖╕╣║╗╝╜╛┐' +
  '└┴┬├─┼╞╟╚╔╩╦╠═╬╧' +
  '╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀' +
  'αßΓπΣσµτΦΘΩδ∞φε∩' +
  '≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';

export const CP437: readonly string[] = (() => {
  const t: string[] = [];
  for (const ch of LOW) t.push(ch);
  for (let c = 0x20; c < 0x7f; c++) t.push(String.fromCharCode(c));
  t.push('⌂');
  for (const ch of HIGH) t.push(ch);
  return t;
})();

/** Decode CP437 bytes to a string. */
export function decodeCp437(bytes: ArrayLike<number>): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += CP437[bytes[i] & 0xff];
  return s;
}
