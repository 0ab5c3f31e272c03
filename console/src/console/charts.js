// Charts drawn as SVG from figures the API returned: each is an image with a text alternative, shown beside the
// same figures as a table and offered as a CSV file.

import { h, s, table } from './dom.js';

const ROW = 34;
const LABEL = 230;
const WIDTH = 720;

/// A horizontal bar chart of [label, value] pairs (values are counts).
export function bars(id, title, pairs) {
  const max = Math.max(1, ...pairs.map(([, v]) => v));
  const height = pairs.length * ROW + 10;
  const span = WIDTH - LABEL - 70;
  return s('svg', { class: 'ow-chart', id, role: 'img', 'aria-labelledby': `${id}-title`, viewBox: `0 0 ${WIDTH} ${height}`, width: WIDTH, height },
    s('title', { id: `${id}-title` }, `${title}: ${pairs.map(([l, v]) => `${l} ${v}`).join(', ')}`),
    pairs.map(([label, value], i) => {
      const y = i * ROW + 5;
      const w = Math.round((value / max) * span);
      return s('g', {},
        s('text', { x: LABEL - 10, y: y + 21, 'text-anchor': 'end' }, label),
        s('rect', { class: 'ow-bar', x: LABEL, y, width: Math.max(w, 1), height: ROW - 8 }),
        s('text', { x: LABEL + w + 8, y: y + 21 }, String(value)));
    }));
}

/// Two series by quarter, as grouped bars.
export function trend(id, title, quarters, first, second) {
  const max = Math.max(1, ...first.values, ...second.values);
  const group = 22 * 2 + 16;
  const width = Math.max(WIDTH, quarters.length * group + 80);
  const height = 260;
  const scale = (v) => Math.round((v / max) * 180);
  return s('svg', { class: 'ow-chart', id, role: 'img', 'aria-labelledby': `${id}-title`, viewBox: `0 0 ${width} ${height}`, width, height },
    s('title', { id: `${id}-title` }, `${title}: ${quarters.map((q, i) => `${q} ${first.label} ${first.values[i]}, ${second.label} ${second.values[i]}`).join('; ')}`),
    quarters.map((q, i) => {
      const x = 40 + i * group;
      return s('g', {},
        s('rect', { class: 'ow-bar', x, y: 200 - scale(first.values[i]), width: 22, height: Math.max(scale(first.values[i]), 1) }),
        s('rect', { class: 'ow-bar ow-bar--second', x: x + 22, y: 200 - scale(second.values[i]), width: 22, height: Math.max(scale(second.values[i]), 1) }),
        s('text', { x: x + 22, y: 222, 'text-anchor': 'middle' }, q));
    }),
    s('rect', { class: 'ow-bar', x: 40, y: 236, width: 14, height: 14 }),
    s('text', { x: 60, y: 248 }, first.label),
    s('rect', { class: 'ow-bar ow-bar--second', x: 260, y: 236, width: 14, height: 14 }),
    s('text', { x: 280, y: 248 }, second.label));
}

function csv(headers, rows) {
  const cell = (v) => {
    const t = String(v ?? '');
    return /[",\n]/.test(t) ? `"${t.replaceAll('"', '""')}"` : t;
  };
  return [headers, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}

/// A chart, then its figures as a table, then a link to download them as CSV.
export function figure(id, heading, chart, headers, rows, filename) {
  const href = `data:text/csv;charset=utf-8,${encodeURIComponent(csv(headers, rows))}`;
  return h('section', { class: 'govuk-!-margin-bottom-8', id, 'aria-labelledby': `${id}-heading` },
    h('h2', { class: 'govuk-heading-m', id: `${id}-heading` }, heading),
    chart,
    h('details', { class: 'govuk-details' },
      h('summary', { class: 'govuk-details__summary' }, h('span', { class: 'govuk-details__summary-text' }, 'Show the figures as a table')),
      h('div', { class: 'govuk-details__text' }, table(heading, headers, rows, { numeric: headers.map((_, i) => i).slice(1) }))),
    h('p', { class: 'govuk-body' }, h('a', { class: 'govuk-link', href, download: filename, id: `${id}-csv` }, `Download ${heading.toLowerCase()} (CSV)`)));
}
