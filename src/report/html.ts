/**
 * The pipeline's `report.html`: one self-contained page (inline CSS and SVG; pictures as
 * PNG files beside it) that a person opens in a browser.
 */

export interface ReportImage {
  /** Path relative to the report folder. */
  src: string;
  caption: string;
}

export interface ReportTable {
  title: string;
  columns: string[];
  rows: Array<Array<string | number | null>>;
  note?: string;
}

export interface ReportInput {
  title: string;
  /** One line under the title: data, protocol, when. */
  subtitle: string;
  /** Key facts shown as a definition list (backend, preset, assignment, ...). */
  settings: Array<[string, string]>;
  tables: ReportTable[];
  /** Inline SVG figures with captions. */
  figures: Array<{svg: string; caption: string}>;
  images: ReportImage[];
  notes?: string[];
}

import {esc as escapeHtml} from './svg.js';

function cell(v: string | number | null): string {
  if (v === null || (typeof v === 'number' && v < 0)) return '<td class="na">–</td>';
  if (typeof v === 'number') return `<td class="num">${Number.isInteger(v) ? v : v.toFixed(3)}</td>`;
  return `<td>${escapeHtml(v)}</td>`;
}

function table(t: ReportTable): string {
  return `<h2>${escapeHtml(t.title)}</h2>
<table><thead><tr>${t.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead>
<tbody>${t.rows.map((r) => `<tr>${r.map(cell).join('')}</tr>`).join('\n')}</tbody></table>
${t.note ? `<p class="note">${escapeHtml(t.note)}</p>` : ''}`;
}

/** The page as a string. */
export function renderReport(r: ReportInput): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(r.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;
  padding:0 1rem;color:#1d2430}
h1{margin-bottom:.2rem}.sub{color:#5b6575;margin-top:0}
dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem;background:#f5f7fa;padding:.8rem 1rem;
  border-radius:6px}
dt{font-weight:600}dd{margin:0}
table{border-collapse:collapse;margin:.5rem 0}th,td{border-bottom:1px solid #dde2ea;padding:.3rem .7rem;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}td.na{color:#9aa3b2;text-align:center}
.figs{display:flex;flex-wrap:wrap;gap:1rem}.figs figure{margin:0}
.imgs{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:1rem}
.imgs img{width:100%;image-rendering:pixelated;border:1px solid #dde2ea}
figcaption{color:#5b6575;font-size:13px}.note{color:#5b6575;font-size:13px}
.legend span{display:inline-block;width:1.2em;height:.7em;margin:0 .3em 0 1em;vertical-align:middle}
</style></head><body>
<h1>${escapeHtml(r.title)}</h1>
<p class="sub">${escapeHtml(r.subtitle)}</p>
<dl>${r.settings.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('')}</dl>
${r.tables.map(table).join('\n')}
${
  r.figures.length
    ? `<h2>Figures</h2><div class="figs">${r.figures
        .map((f) => `<figure>${f.svg}<figcaption>${escapeHtml(f.caption)}</figcaption></figure>`)
        .join('')}</div>`
    : ''
}
${
  r.images.length
    ? `<h2>Validation images</h2>
<p class="legend"><span style="border:2px solid #22dd44"></span>ground truth (drawn just outside the object)
<span style="border:2px dashed #ff3030"></span>detections (images enlarged; boxes under 7 screen px are drawn at 7 px
around their centre)</p>
<div class="imgs">${r.images
        .map(
          (i) => `<figure><img src="${escapeHtml(i.src)}" alt="${escapeHtml(i.caption)}">
<figcaption>${escapeHtml(i.caption)}</figcaption></figure>`,
        )
        .join('\n')}</div>`
    : ''
}
${r.notes?.length ? `<h2>Notes</h2><ul>${r.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` : ''}
</body></html>
`;
}
