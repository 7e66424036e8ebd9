// The waterfall of one trace: a row per span in tree order, a bar placed by start offset and duration,
// colored by service so a GRPO step's hops between trainer, generation and reward stand out.
'use strict';

const Waterfall = (() => {
  const PALETTE = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#dc2626', '#0891b2', '#db2777', '#65a30d', '#4f46e5', '#0d9488'];

  // Colors are handed out in the order services are first seen, so the few services of a run never
  // share one (a hash of the name would collide), and a service keeps its color for the page's life.
  const assigned = new Map();
  function colorOf(service) {
    if (!assigned.has(service)) assigned.set(service, PALETTE[assigned.size % PALETTE.length]);
    return assigned.get(service);
  }

  function div(className, text) {
    const element = document.createElement('div');
    element.className = className;
    if (text !== undefined) element.textContent = text;
    return element;
  }

  function ms(value) {
    if (value >= 1000) return `${(value / 1000).toFixed(2)} s`;
    if (value >= 1) return `${value.toFixed(1)} ms`;
    return `${(value * 1000).toFixed(0)} µs`;
  }

  function serviceTag(service) {
    const tag = document.createElement('span');
    tag.className = 'service-tag';
    tag.dataset.service = service;
    const dot = document.createElement('span');
    dot.className = 'service-dot';
    dot.style.background = colorOf(service);
    tag.append(dot, document.createTextNode(service));
    return tag;
  }

  function axis(total) {
    const row = div('waterfall-axis');
    row.appendChild(div('span-label', 'span'));
    const track = div('axis-track');
    [0, 0.25, 0.5, 0.75, 1].forEach((f, i, all) => {
      const tick = div('axis-tick' + (i === 0 ? ' first' : i === all.length - 1 ? ' last' : ''), ms(total * f));
      tick.style.left = `${f * 100}%`;
      track.appendChild(tick);
    });
    row.appendChild(track);
    row.appendChild(div('span-duration', 'duration'));
    return row;
  }

  // trace: /api/traces/{id}; onSelect(span) when a row is clicked.
  function render(container, trace, onSelect) {
    container.replaceChildren();
    const total = Math.max(trace.durationMs, 0.001);
    container.appendChild(axis(total));
    for (const span of trace.spans) {
      const row = div('span-row');
      row.setAttribute('data-testid', 'span-row');
      row.dataset.service = span.service;
      row.dataset.spanId = span.spanId;

      const label = div('span-label');
      label.style.paddingLeft = `${6 + Math.min(span.depth, 40) * 14}px`;
      label.title = `${span.service}: ${span.name}`;
      label.append(serviceTag(span.service), document.createTextNode(span.name));

      const track = div('span-track');
      const bar = div('span-bar' + (span.status === 'error' ? ' error' : ''));
      bar.style.left = `${(span.startOffsetMs / total) * 100}%`;
      bar.style.width = `${Math.max((span.durationMs / total) * 100, 0.2)}%`;
      bar.style.background = colorOf(span.service);
      bar.setAttribute('data-testid', 'span-bar');
      track.appendChild(bar);

      row.append(label, track, div('span-duration', ms(span.durationMs)));
      row.addEventListener('click', () => {
        container.querySelectorAll('.span-row.selected').forEach(r => r.classList.remove('selected'));
        row.classList.add('selected');
        onSelect(span);
      });
      container.appendChild(row);
    }
  }

  return { render, colorOf, serviceTag, ms };
})();
