// Guided experiments: each sets the inputs that answer one question, names
// the plot to look at, and writes its takeaway from the run's own numbers
// (never from typed-in figures), so the claim is true for whatever the
// engine computes. The takeaway's figures sit in data-* attributes of
// `[data-claim]` elements for tests. A link runs one with ?scenario=NAME.

import { esc, int, pct, ratio, si } from './format.js';

const share = (part, whole) => (whole > 0 ? part / whole : 0);
const sum = (xs, f) => xs.reduce((a, x) => a + f(x), 0);
const claim = (name, attrs, text) => `<span data-claim="${esc(name)}"${Object.entries(attrs)
  .map(([k, v]) => ` data-${k}="${esc(String(v))}"`).join('')}>${text}</span>`;

// replicasOf is how many copies of its first layer a partition holds.
function firstReplicas(p) { return p.replication.length ? p.replication[0].replicas : 0; }

export const SCENARIOS = {
  'why-partition': {
    label: 'Why partition at all?',
    question: 'Why cut a network into partitions at all?',
    state: { model: 'resnet18', chip: 'M', batch: 16, methods: ['greedy', 'layerwise', 'compass', 'optimal'], objective: 'latency' },
    plot: 'strip',
    extra: [{ cmd: 'inspect', request: { model: 'squeezenet1_1', chip: 'S' } }],
    takeaway({ res, extra }) {
      const sq = extra[0];
      const need = share(res.crossbars_needed, res.crossbars_available);
      return `${claim('small-fits', { fits: sq.fits, needed: sq.crossbars_needed, available: sq.crossbars_available },
        `SqueezeNet 1.1 needs ${int(sq.crossbars_needed)} of chip S's ${int(sq.crossbars_available)} crossbars: ${sq.fits ? 'it fits, so one partition holds it and its weights are written once' : 'even it does not fit'}.`)} ` +
        `${claim('big-needs', { ratio: need, needed: res.crossbars_needed, available: res.crossbars_available },
          `ResNet18 needs ${int(res.crossbars_needed)} crossbars, ${need.toFixed(1)}× chip M's ${int(res.crossbars_available)}: every method must cut it into partitions and rewrite the crossbars from DRAM between them.`)} ` +
        'The strip shows where each method cuts.';
    },
  },
  'greedy-starves': {
    label: 'Why does greedy lose?',
    question: 'Greedy packs as many layers as fit into each partition. Why is that slow?',
    state: { model: 'resnet18', chip: 'M', batch: 16, methods: ['greedy', 'optimal'], objective: 'latency' },
    plot: 'chip',
    controls: { chip: { method: 'greedy', partition: '0' } },
    takeaway({ res }) {
      const g = res.results.find((r) => r.method === 'greedy');
      const o = res.results.find((r) => r.method === 'optimal');
      const shares = g.partitions.map((p) => share(p.time_s, g.latency_s));
      const top = shares.indexOf(Math.max(...shares));
      const g0 = g.partitions[0];
      const o0 = o.partitions[0];
      return `${claim('greedy-first', { share: shares[0], dominant: top === 0, replicas: firstReplicas(g0), layer: g0.first_layer },
        `Greedy's first partition (${esc(g0.first_layer)} to ${esc(g0.last_layer)}) takes ${pct(shares[0])} of its batch time${top === 0 ? ', more than any other' : ''}: packed full, it leaves room for only ${int(firstReplicas(g0))} copies of ${esc(g0.first_layer)}.`)} ` +
        `${claim('optimal-first', { replicas: firstReplicas(o0), share: share(o0.time_s, o.latency_s), speedup: g.latency_s / o.latency_s },
          `The optimum's first partition (${esc(o0.first_layer)}${o0.last_layer === o0.first_layer ? ' alone' : ` to ${esc(o0.last_layer)}`}) holds ${int(firstReplicas(o0))} copies of ${esc(o0.first_layer)}, and it finishes the batch ${ratio(g.latency_s / o.latency_s)} faster.`)} ` +
        'The chip view shows greedy\'s first partition; switch the method to optimal to compare.';
    },
  },
  batch: {
    label: 'What does a larger batch buy?',
    question: 'Why does a larger batch make each inference cheaper?',
    state: { model: 'resnet18', chip: 'M', batch: 16, methods: ['greedy', 'layerwise', 'compass', 'optimal'], objective: 'latency' },
    plot: 'batches',
    controls: { batches: { metric: 'energy_per_inference_j' } },
    needsSweep: true,
    takeaway({ sweep }) {
      const rows = sweep.rows.slice().sort((a, b) => a.batch - b.batch);
      const fig = (row) => row.figures.find((f) => f.method === 'compass') || row.figures[0];
      const a = fig(rows[0]);
      const b = fig(rows[rows.length - 1]);
      return `${claim('batch-energy', { method: a.method, first: rows[0].batch, last: rows[rows.length - 1].batch, from: a.energy_per_inference_j, to: b.energy_per_inference_j },
        `${esc(a.method)} spends ${si(a.energy_per_inference_j, 'J')} per inference at batch ${rows[0].batch} and ${si(b.energy_per_inference_j, 'J')} at batch ${rows[rows.length - 1].batch} (${ratio(a.energy_per_inference_j / b.energy_per_inference_j)} less).`)} ` +
        'Loading and writing a partition\'s weights is paid once per batch, so more inputs share it.';
    },
  },
  'ga-gap': {
    label: 'How far is the paper\'s GA from the optimum?',
    question: 'How close does the paper\'s genetic algorithm get to the exact optimum, and why not all the way?',
    state: { model: 'vgg16', chip: 'S', batch: 1, methods: ['compass', 'optimal'], objective: 'latency' },
    plot: 'convergence',
    takeaway({ res }) {
      const by = Object.fromEntries(res.results.map((r) => [r.method, r]));
      const gap = (r) => r.latency_s / by.optimal.latency_s - 1;
      const p = by.compass;
      const gens = (r) => r.ga.history.length - 1; // the history starts with generation 0
      return `${claim('paper-gap', { gap: gap(p), generations: gens(p), partitions: p.partitions.length, optimal_partitions: by.optimal.partitions.length },
        `compass, the paper's GA, ends ${pct(gap(p))} above the optimum after its ${int(gens(p))} generations, with ${int(p.partitions.length)} partitions where the optimum has ${int(by.optimal.partitions.length)}: ` +
        (p.partitions.length > by.optimal.partitions.length ? `${int(gens(p))} generations of random merges do not remove enough cuts from its starting plans.`
          : p.partitions.length < by.optimal.partitions.length ? `${int(gens(p))} generations of random splits do not add enough cuts to its starting plans.`
            : 'it has the right number of cuts in the wrong places.'))} ` +
        'Each partition\'s cost depends on its own span only, so the optimum is a shortest path over the cuts, which dynamic programming finds exactly.';
    },
  },
  reram: {
    label: 'What do expensive writes change?',
    question: 'A ReRAM chip writes its crossbars slowly and at a high energy. What does that do to the cuts?',
    state: { model: 'mobilenet_v2', chip: 'ReRAM', batch: 1, methods: ['layerwise', 'optimal'], objective: 'latency' },
    plot: 'phases',
    controls: { phases: { method: 'optimal' } },
    // The same chip with chip M's (SRAM) write latency and energy.
    extra: [{
      cmd: 'compile',
      build: (chips) => {
        const m = chips.get('M');
        return { model: 'mobilenet_v2', chip: 'ReRAM', batch: 1, methods: ['optimal'], objective: 'latency', seed: 1,
          chip_spec: { ...chips.get('ReRAM'), name: 'ReRAM with SRAM writes', crossbar_write_row_latency_ns: m.crossbar_write_row_latency_ns,
            crossbar_write_energy_per_cell_bit_pj: m.crossbar_write_energy_per_cell_bit_pj } };
      },
    }],
    takeaway({ res, extra }) {
      const o = res.results.find((r) => r.method === 'optimal');
      const cheap = extra[0].results[0];
      const w = (r) => share(sum(r.partitions, (p) => p.write_s), r.latency_s);
      const n = o.partitions.length;
      const k = cheap.partitions.length;
      const verdict = n < k ? 'Every cut costs a rewrite, so with dear writes fewer cuts pay off.'
        : n > k ? 'Here the dearer writes make the search cut more, not less: its smaller partitions overlap their writes with compute.'
          : 'Here the writes are too small a share to move the cuts.';
      return `${claim('reram-cuts', { share: w(o), partitions: n, cheap_partitions: k, cheap_share: w(cheap) },
        `On ReRAM, writing the crossbars takes ${pct(w(o))} of the optimum's batch time, and it cuts MobileNetV2 into ${int(n)} partitions; ` +
        `with writes as cheap as chip M's SRAM (the same chip otherwise) the optimum makes ${int(k)} partitions and writes take ${pct(w(cheap))}.`)} ${verdict}`;
    },
  },
  'own-model': {
    label: 'Try your own model',
    question: 'How would your own network partition?',
    state: null, // nothing to run: the upload control takes the focus
    plot: null,
    takeaway() {
      return 'Export it from PyTorch with torch.onnx.export (or write a .json graph) and choose it with the upload control: it is read in this page and never leaves it. If an input has dynamic sizes, the page asks for them.';
    },
  },
};
