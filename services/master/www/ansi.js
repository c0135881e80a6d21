// ANSI SGR colour sequences (ESC [ ... m) in log lines to escaped HTML spans. Other escape
// sequences (cursor moves, erase) are dropped; text is always escaped.

import { esc } from "./util.js";

const PATTERN = /\x1b\[([0-9;]*)([A-Za-z])/g;

function fresh() {
  return { bold: false, italic: false, underline: false, fg: null, bg: null };
}

// The xterm 256-colour palette entry `n` as CSS.
function palette(n) {
  if (n < 16) return null; // handled as classes
  if (n < 232) {
    const c = n - 16;
    const level = (v) => (v === 0 ? 0 : 55 + v * 40);
    return `rgb(${level(Math.floor(c / 36))},${level(Math.floor(c / 6) % 6)},${level(c % 6)})`;
  }
  const grey = 8 + (n - 232) * 10;
  return `rgb(${grey},${grey},${grey})`;
}

// Applies the parameters of one SGR sequence to `state`.
function apply(state, params) {
  const codes = params === "" ? [0] : params.split(";").map((p) => Number(p || 0));
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i];
    if (code === 0) Object.assign(state, fresh());
    else if (code === 1) state.bold = true;
    else if (code === 3) state.italic = true;
    else if (code === 4) state.underline = true;
    else if (code === 22) state.bold = false;
    else if (code === 23) state.italic = false;
    else if (code === 24) state.underline = false;
    else if (code >= 30 && code <= 37) state.fg = { index: code - 30 };
    else if (code >= 90 && code <= 97) state.fg = { index: code - 90 + 8 };
    else if (code === 39) state.fg = null;
    else if (code >= 40 && code <= 47) state.bg = { index: code - 40 };
    else if (code >= 100 && code <= 107) state.bg = { index: code - 100 + 8 };
    else if (code === 49) state.bg = null;
    else if (code === 38 || code === 48) {
      let colour = null;
      if (codes[i + 1] === 5) {
        const n = codes[i + 2] ?? 0;
        colour = n < 16 ? { index: n } : { css: palette(n) };
        i += 2;
      } else if (codes[i + 1] === 2) {
        const [r, g, b] = codes.slice(i + 2, i + 5).map((v) => v ?? 0);
        colour = { css: `rgb(${r},${g},${b})` };
        i += 4;
      }
      if (code === 38) state.fg = colour;
      else state.bg = colour;
    }
  }
}

function open(state) {
  const classes = [];
  const styles = [];
  if (state.bold) classes.push("ansi-bold");
  if (state.italic) classes.push("ansi-italic");
  if (state.underline) classes.push("ansi-underline");
  if (state.fg?.index !== undefined) classes.push(`ansi-fg-${state.fg.index}`);
  if (state.fg?.css) styles.push(`color:${state.fg.css}`);
  if (state.bg?.index !== undefined) classes.push(`ansi-bg-${state.bg.index}`);
  if (state.bg?.css) styles.push(`background:${state.bg.css}`);
  if (!classes.length && !styles.length) return "";
  const cls = classes.length ? ` class="${classes.join(" ")}"` : "";
  const style = styles.length ? ` style="${styles.join(";")}"` : "";
  return `<span${cls}${style}>`;
}

/** One line of log text as HTML; colours do not carry over to the next line. */
export function ansiToHtml(text) {
  const state = fresh();
  let out = "";
  let last = 0;
  const emit = (chunk) => {
    if (!chunk) return;
    const start = open(state);
    out += start + esc(chunk) + (start ? "</span>" : "");
  };
  PATTERN.lastIndex = 0;
  for (let match = PATTERN.exec(text); match; match = PATTERN.exec(text)) {
    emit(text.slice(last, match.index));
    if (match[2] === "m") apply(state, match[1]);
    last = PATTERN.lastIndex;
  }
  emit(text.slice(last));
  // Any other lone escape characters are not printable.
  return out.replace(/\x1b/g, "");
}
