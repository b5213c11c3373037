// Number formatting and escaping shared by the cards and the plots.

const PREFIXES = [
  [1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k'], [1, ''],
  [1e-3, 'm'], [1e-6, 'µ'], [1e-9, 'n'], [1e-12, 'p'], [1e-15, 'f'], [1e-18, 'a'], [1e-21, 'z'],
];

// prefixFor picks the SI prefix that puts |x| in [1, 1000).
export function prefixFor(x) {
  const a = Math.abs(x);
  if (!(a > 0) || !Number.isFinite(a)) return [1, ''];
  for (const p of PREFIXES) {
    if (a >= p[0] * (1 - 5e-4)) return p; // the tolerance keeps 999.96 from printing as "1000"
  }
  return PREFIXES[PREFIXES.length - 1];
}

// si formats a value with an SI prefix and 3 significant digits: si(0.0018, 'J') = "1.80 mJ".
export function si(x, unit = '', digits = 3) {
  if (x === 0) return `0 ${unit}`.trim();
  if (!Number.isFinite(x)) return String(x);
  const [scale, prefix] = prefixFor(x);
  return `${(x / scale).toPrecision(digits)} ${prefix}${unit}`.trim();
}

const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

// num formats with thousands separators and at most one decimal: 1448.66 -> "1,448.7".
export function num(x) { return Number.isFinite(x) ? grouped.format(x) : String(x); }

// int formats an integer with thousands separators.
export function int(x) { return Number.isFinite(x) ? integer.format(x) : String(x); }

// bytes formats a byte count in binary units: 5840000 -> "5.57 MiB".
export function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return i === 0 ? `${int(v)} B` : `${v.toPrecision(3)} ${units[i]}`;
}

// ratio formats a speed-up: 1.5 -> "1.50×".
export function ratio(x) { return Number.isFinite(x) ? `${x.toFixed(2)}×` : '–'; }

// pct formats a fraction as a percentage.
export function pct(x) { return Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '–'; }

// tick formats an axis tick value (already divided by the axis's scale):
// at most 3 significant digits, no trailing zeros.
export function tick(x) {
  if (x === 0) return '0';
  return String(Number(x.toPrecision(3)));
}

const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

// esc escapes text for HTML/SVG markup (names in uploaded models are untrusted).
export function esc(s) { return String(s).replace(/[&<>"']/g, (c) => ESC[c]); }
