// SVG line charts drawn by hand: no chart library, no build step. Every value is set through DOM
// attributes and textContent, never parsed as markup, because metric names come from any sender.
'use strict';

const Charts = (() => {
  const NS = 'http://www.w3.org/2000/svg';
  const WIDTH = 420;
  const HEIGHT = 220;
  const MARGIN = { left: 56, right: 14, top: 10, bottom: 32 };

  function node(tag, attributes, text) {
    const element = document.createElementNS(NS, tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      element.setAttribute(name, String(value));
    }
    if (text !== undefined) {
      element.textContent = text;
    }
    return element;
  }

  function format(value) {
    if (!Number.isFinite(value)) return String(value);
    const magnitude = Math.abs(value);
    if (magnitude >= 10000) return value.toExponential(1);
    if (magnitude >= 100) return value.toFixed(0);
    if (magnitude >= 1 || magnitude === 0) return String(Number(value.toFixed(2)));
    if (magnitude >= 0.001) return String(Number(value.toPrecision(2)));
    return value.toExponential(1);
  }

  // Round tick values (1, 2, 5 x 10^k) covering [min, max]; whole numbers only when integer (steps).
  function ticks(min, max, count, integer) {
    const span = max - min;
    const raw = span / Math.max(1, count);
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    let step = [1, 2, 5, 10].map(f => f * power).find(s => span / s <= count) || raw;
    if (integer) step = Math.max(1, Math.round(step));
    const result = [];
    for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step) {
      result.push(Number(t.toPrecision(12)));
    }
    return result;
  }

  // [min, max] of values widened by pad (a share of the range) so no point sits on the frame.
  function domain(values, pad) {
    let min = Math.min(...values);
    let max = Math.max(...values);
    if (min === max) {
      const half = Math.abs(min) * 0.1 || 1;
      return [min - half, max + half];
    }
    const margin = (max - min) * pad;
    return [min - margin, max + margin];
  }

  // options: { title, metric, xLabel, integerX, series: [{ name, color, points: [{ x, y, label }] }] }
  function lineChart(options) {
    const figure = document.createElement('figure');
    figure.className = 'chart';
    figure.dataset.metric = options.metric;
    const caption = document.createElement('figcaption');
    caption.textContent = options.title;
    figure.appendChild(caption);

    const svg = node('svg', {
      width: WIDTH, height: HEIGHT, viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      class: 'curve-chart', 'data-testid': 'curve', 'data-metric': options.metric, role: 'img',
      'aria-label': options.title,
    });
    figure.appendChild(svg);

    const series = options.series
      .map(s => ({ ...s, points: s.points.filter(p => Number.isFinite(p.x) && Number.isFinite(p.y)) }))
      .filter(s => s.points.length > 0);
    if (series.length === 0) {
      svg.appendChild(node('text', { x: WIDTH / 2, y: HEIGHT / 2, 'text-anchor': 'middle', class: 'no-data' }, 'waiting for data'));
      return figure;
    }

    const all = series.flatMap(s => s.points);
    const [xMin, xMax] = domain(all.map(p => p.x), 0);
    const [yMin, yMax] = domain(all.map(p => p.y), 0.08);
    const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
    const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
    const px = x => MARGIN.left + ((x - xMin) / (xMax - xMin)) * plotWidth;
    const py = y => MARGIN.top + plotHeight - ((y - yMin) / (yMax - yMin)) * plotHeight;

    for (const t of ticks(yMin, yMax, 4)) {
      svg.appendChild(node('line', { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: py(t), y2: py(t), class: 'grid-line' }));
      svg.appendChild(node('text', { x: MARGIN.left - 6, y: py(t) + 3, 'text-anchor': 'end', class: 'tick-label' }, format(t)));
    }
    for (const t of ticks(xMin, xMax, 6, options.integerX)) {
      svg.appendChild(node('text', { x: px(t), y: HEIGHT - MARGIN.bottom + 14, 'text-anchor': 'middle', class: 'tick-label' }, format(t)));
    }
    svg.appendChild(node('line', { x1: MARGIN.left, x2: MARGIN.left, y1: MARGIN.top, y2: HEIGHT - MARGIN.bottom, class: 'axis-line' }));
    svg.appendChild(node('line', { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: HEIGHT - MARGIN.bottom, y2: HEIGHT - MARGIN.bottom, class: 'axis-line' }));
    svg.appendChild(node('text', { x: MARGIN.left + plotWidth / 2, y: HEIGHT - 4, 'text-anchor': 'middle', class: 'tick-label' }, options.xLabel || ''));

    for (const s of series) {
      const group = node('g', { class: 'curve-series', 'data-series': s.name });
      const path = s.points.map(p => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ');
      group.appendChild(node('polyline', { points: path, class: 'curve-line', stroke: s.color }));
      for (const p of s.points) {
        const circle = node('circle', { cx: px(p.x).toFixed(1), cy: py(p.y).toFixed(1), r: 2.8, fill: s.color, class: 'curve-point' });
        circle.appendChild(node('title', {}, p.label || `${format(p.x)}: ${format(p.y)}`));
        group.appendChild(circle);
      }
      svg.appendChild(group);
    }
    return figure;
  }

  return { lineChart, format };
})();
