/**
 * Keeps an ECharts chart as wide as its element: a chart sized once at init overflows its card when the card
 * changes width without the window resizing (a side menu folded, a scrollbar appearing, a tab shown).
 * Returns the function that stops following.
 */
export function followElementSize(chart: { resize: () => void }, el: HTMLElement): () => void {
  const observer = new ResizeObserver(() => chart.resize());
  observer.observe(el);
  return () => observer.disconnect();
}
