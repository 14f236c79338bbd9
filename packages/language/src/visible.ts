/**
 * Characters that a terminal would not show as themselves: control
 * characters (which can move the cursor, change colours or clear the screen
 * when printed raw) and invisible formatting characters (zero-width spaces,
 * bidirectional overrides that reorder what is shown). Diagnostics quote
 * them by code point instead.
 */

/** C0 controls other than tab, line feed and carriage return; DEL; C1 controls. */
export function isControl(code: number): boolean {
  return (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) || (code >= 0x7f && code <= 0x9f);
}

/** Every control character (tab, CR and LF too) and the invisible formatting characters. */
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]/;
const INVISIBLE_ALL = new RegExp(INVISIBLE.source, 'g');

export function isInvisible(ch: string): boolean {
  return INVISIBLE.test(ch);
}

/** `U+001B`: how a message names a character that cannot be shown. */
export function codePointName(ch: string): string {
  return `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** `\u{1b}`: how a character that cannot be shown stands in a printed source line. */
export function escaped(ch: string): string {
  return `\\u{${(ch.codePointAt(0) ?? 0).toString(16)}}`;
}

/** The text with every invisible character written as `\u{…}`. */
export function visible(text: string): string {
  return text.replace(INVISIBLE_ALL, escaped);
}
