// The chip parameter form, generated from the preset's own JSON object, so
// every key the engine knows is editable (nested objects such as "dram" get
// their own fieldset). Keys are addressed by path: "cores", "dram.banks".

import { esc } from './format.js';

// Groups of top-level keys, by name pattern, in display order; keys that match
// none go to "Other".
const GROUPS = [
  ['Identity', /^(name|description)$/],
  ['Cores and crossbars', /^(cores|crossbars_per_core|crossbar_rows|crossbar_cols|bits_per_cell|weight_bits|activation_bits)$/],
  ['Clock and converters', /^(clock_hz|dac_|adc_|adcs_)/],
  ['Crossbar compute and write', /^(mvm_|crossbar_write)/],
  ['Vector unit', /^vfu_(?!static)/],
  ['Local memory', /^local_memory_(?!static)/],
  ['On-chip bus', /^bus_/],
  ['Static power', /_static_power_/],
];

// Short help for the parameters a learner meets first.
const HELP = {
  cores: 'Cores on the chip; each has its own crossbars, vector unit and local memory.',
  crossbars_per_core: 'Crossbar arrays in one core. Cores x crossbars is the chip\'s weight capacity.',
  crossbar_rows: 'Word lines (inputs) of one crossbar: the fan-in one array sums.',
  crossbar_cols: 'Bit lines (cell columns) of one crossbar.',
  bits_per_cell: 'Weight bits one cell stores; a weight spans weight_bits / bits_per_cell columns.',
  weight_bits: 'Weight precision.',
  activation_bits: 'Activation (crossbar input) precision.',
  clock_hz: 'Core clock; it times the vector unit and local memory. Other latencies are in ns.',
  dac_bits: 'Input bits applied per MVM slice (1 = bit-serial).',
  adcs_per_crossbar: 'ADCs shared by one crossbar\'s columns.',
  mvm_slice_latency_ns: 'Analog array time of one input slice, ADC conversions excluded.',
  crossbar_write_row_latency_ns: 'Time to program one crossbar row; writes between partitions pay it.',
  crossbar_write_parallel_rows: 'Rows of one crossbar programmed at once (crossbars write in parallel).',
  local_memory_bytes: 'One core\'s activation memory.',
  bus_bandwidth_bytes_per_s: 'Shared on-chip bus joining the cores and the DRAM controller.',
  'dram.page_policy': '"open" keeps rows open until a conflict; "closed" precharges after each access.',
  'dram.tck_ns': 'DRAM clock period; the data rate is 2 / tck_ns transfers per ns.',
  'dram.channels': 'Independent DRAM channels.',
  'dram.banks': 'Banks per device (a power of two).',
};

// UNITS turns a key's unit suffix into a label suffix.
const UNITS = [
  [/_bytes_per_s$/, 'B/s'], [/_per_byte_pj$/, 'pJ/B'], [/_per_op_pj$/, 'pJ/op'], [/_per_conversion_pj$/, 'pJ'],
  [/_per_cell_bit_pj$/, 'pJ/bit'], [/_pj$/, 'pJ'], [/_ns$/, 'ns'], [/_hz$/, 'Hz'], [/_mw$/, 'mW'], [/_ma$/, 'mA'],
  [/_v$/, 'V'], [/_cycles$/, 'cycles'], [/_bytes$/, 'bytes'], [/_bits$/, 'bits'],
];

function label(key) {
  for (const [re, unit] of UNITS) {
    if (re.test(key)) {
      const base = key.replace(re, '').replaceAll('_', ' ');
      return `${base} (${unit})`;
    }
  }
  return key.replaceAll('_', ' ');
}

const fieldId = (path) => `chip-f-${path.replace(/[^a-z0-9]+/gi, '-')}`;

function fieldHTML(path, key, value) {
  const id = fieldId(path);
  const help = HELP[path] ? `<small id="${id}-help">${esc(HELP[path])}</small>` : '';
  const desc = HELP[path] ? ` aria-describedby="${id}-help"` : '';
  let input;
  if (typeof value === 'number') {
    input = `<input id="${id}" data-key="${esc(path)}" type="number" step="any" inputmode="decimal" value="${esc(String(value))}"${desc}>`;
  } else if (typeof value === 'boolean') {
    input = `<input id="${id}" data-key="${esc(path)}" type="checkbox"${value ? ' checked' : ''}${desc}>`;
  } else if (key === 'page_policy') {
    const opts = ['open', 'closed'].map((o) => `<option${o === value ? ' selected' : ''}>${o}</option>`).join('');
    input = `<select id="${id}" data-key="${esc(path)}"${desc}>${opts}</select>`;
  } else {
    input = `<input id="${id}" data-key="${esc(path)}" type="text" value="${esc(String(value))}"${desc}>`;
  }
  return `<div class="field" data-field-key="${esc(path)}"><label for="${id}">${esc(label(key))}` +
    ` <span class="edited-mark">(edited)</span></label>${input}<code class="key">chip.${esc(path)}</code>${help}</div>`;
}

function groupOf(key) {
  for (const [name, re] of GROUPS) if (re.test(key)) return name;
  return 'Other';
}

// build renders the form for `chip` into `container`.
export function build(container, chip) {
  const groups = new Map(GROUPS.map(([name]) => [name, []]));
  groups.set('Other', []);
  const nested = [];
  for (const [k, v] of Object.entries(chip)) {
    if (v && typeof v === 'object' && !Array.isArray(v)) nested.push([k, v]);
    else if (!Array.isArray(v)) groups.get(groupOf(k)).push(fieldHTML(k, k, v));
  }
  let html = '';
  for (const [name, fields] of groups) {
    if (fields.length) html += `<fieldset class="chip-group"><legend>${esc(name)}</legend>${fields.join('')}</fieldset>`;
  }
  for (const [k, obj] of nested) {
    const fields = Object.entries(obj).filter(([, v]) => typeof v !== 'object')
      .map(([kk, v]) => fieldHTML(`${k}.${kk}`, kk, v)).join('');
    html += `<fieldset class="chip-group nested"><legend>${esc(k.toUpperCase())} (${esc(k)}.*)</legend>${fields}</fieldset>`;
  }
  container.innerHTML = html;
}

function get(obj, path) { return path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj); }

function inputValue(el) { return el.type === 'checkbox' ? String(el.checked) : el.value; }

function differs(el, orig) {
  const v = inputValue(el);
  if (typeof orig === 'number') return v.trim() === '' || Number(v) !== orig;
  return v !== String(orig);
}

// applyEdits writes edited values (path -> string) into the form; it
// returns the paths that are not parameters of this chip.
export function applyEdits(container, edits) {
  const unknown = [];
  for (const [path, v] of Object.entries(edits)) {
    const el = container.querySelector(`[data-key="${CSS.escape(path)}"]`);
    if (!el) { unknown.push(path); continue; }
    if (el.type === 'checkbox') el.checked = v === 'true' || v === '1';
    else el.value = v;
  }
  return unknown;
}

// readEdits returns the fields that differ from `chip` (path -> string) and
// marks them in the form.
export function readEdits(container, chip) {
  const out = {};
  for (const el of container.querySelectorAll('[data-key]')) {
    const path = el.dataset.key;
    const d = differs(el, get(chip, path));
    el.closest('.field').classList.toggle('edited', d);
    if (d) out[path] = inputValue(el);
  }
  return out;
}

// spec returns a full chip object with `edits` applied, typed like the
// preset's values. Throws naming the field when a number does not parse.
export function spec(chip, edits) {
  const out = structuredClone(chip);
  for (const [path, v] of Object.entries(edits)) {
    const keys = path.split('.');
    let o = out;
    for (const k of keys.slice(0, -1)) o = o[k];
    const last = keys[keys.length - 1];
    const orig = o[last];
    if (typeof orig === 'number') {
      const n = Number(v);
      if (String(v).trim() === '' || !Number.isFinite(n)) throw new Error(`chip parameter ${path} = "${v}" is not a number`);
      o[last] = n;
    } else if (typeof orig === 'boolean') {
      o[last] = v === 'true' || v === '1';
    } else {
      o[last] = String(v);
    }
  }
  return out;
}

export function isKnown(chip, path) { return get(chip, path) !== undefined && typeof get(chip, path) !== 'object'; }
