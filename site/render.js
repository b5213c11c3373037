// Render scheduling shared by the playground and the Paper view: each plot
// is drawn in its own short task, a frame apart, at its figure's width.

// frame resolves at the next animation frame (or task, in a hidden tab,
// where frames do not run), so each plot is its own short task.
export function frame() {
  return new Promise((resolve) => {
    if (document.hidden) setTimeout(resolve, 0);
    else requestAnimationFrame(() => setTimeout(resolve, 0));
  });
}

// plotWidth is the width a figure's plot may take, in CSS pixels.
export function plotWidth(f) {
  const body = f.querySelector('.plot-body') || f;
  return Math.max(280, Math.floor(body.clientWidth));
}
