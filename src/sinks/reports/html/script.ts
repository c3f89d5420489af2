// The page's behaviour, inlined. The page is complete without it (every marker has its
// <title>, the table lists every finding); the script adds the tooltip, arrow-key movement
// between markers (one tab stop per map instead of one per port), and sorting/filtering.
// It only ever writes textContent: object names never become markup.
export const JS = `
(() => {
  'use strict';
  const $$ = (s, r) => Array.from((r || document).querySelectorAll(s));
  const tip = document.getElementById('tip');
  let tipFor = null;

  function showTip(mk) {
    tipFor = mk;
    tip.textContent = mk.dataset.tip;
    tip.hidden = false;
    const r = mk.getBoundingClientRect();
    const w = tip.offsetWidth, h = tip.offsetHeight;
    const left = Math.min(Math.max(4, r.left + r.width / 2 - w / 2), document.documentElement.clientWidth - w - 4);
    const top = r.bottom + 8 + h > window.innerHeight && r.top - h - 8 > 0 ? r.top - h - 8 : r.bottom + 8;
    tip.style.left = (left + window.scrollX) + 'px';
    tip.style.top = (top + window.scrollY) + 'px';
  }
  function hideTip(mk) {
    if (mk && mk !== tipFor) return;
    tip.hidden = true;
    tipFor = null;
  }

  // The <title> becomes the custom tooltip and the accessible name (the browser's own title
  // tooltip would show late and twice); zoomed-lane markers take their overview marker's.
  const labels = new Map();
  for (const t of $$('.mk > title')) labels.set(t.parentNode.id, t.textContent);
  for (const mk of $$('.mk')) {
    const label = labels.get(mk.id || mk.dataset.of) || '';
    mk.dataset.tip = label;
    mk.setAttribute('aria-label', label);
    const t = mk.querySelector('title');
    if (t) t.remove();
  }
  for (const group of $$('.mks')) {
    const marks = $$('.mk', group);
    marks.forEach((mk, i) => mk.setAttribute('tabindex', i === 0 ? '0' : '-1'));
    group.addEventListener('keydown', (e) => {
      const i = marks.indexOf(e.target);
      if (i < 0) return;
      const to = { ArrowRight: i + 1, ArrowDown: i + 1, ArrowLeft: i - 1, ArrowUp: i - 1, Home: 0, End: marks.length - 1 }[e.key];
      if (e.key === 'Escape') { hideTip(); return; }
      if (to === undefined || to < 0 || to >= marks.length) return;
      e.preventDefault();
      marks[i].setAttribute('tabindex', '-1');
      marks[to].setAttribute('tabindex', '0');
      marks[to].focus();
    });
  }
  document.addEventListener('focusin', (e) => { if (e.target.classList && e.target.classList.contains('mk')) showTip(e.target); });
  document.addEventListener('focusout', (e) => { if (e.target.classList && e.target.classList.contains('mk')) hideTip(e.target); });
  document.addEventListener('mouseover', (e) => { const mk = e.target.closest && e.target.closest('.mk'); if (mk) showTip(mk); });
  document.addEventListener('mouseout', (e) => { const mk = e.target.closest && e.target.closest('.mk'); if (mk && document.activeElement !== mk) hideTip(mk); });
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape') hideTip(); });

  const table = document.getElementById('findings-table');
  if (table) {
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    const status = document.getElementById('findings-status');
    const selects = $$('[data-filter]');
    const search = document.getElementById('f-text');
    const apply = () => {
      const want = selects.filter((s) => s.value !== '').map((s) => [s.dataset.filter, s.value]);
      const text = search.value.trim().toLowerCase();
      let shown = 0;
      for (const r of rows) {
        const ok = want.every(([k, v]) => r.dataset[k] === v) && (!text || r.textContent.toLowerCase().includes(text));
        r.hidden = !ok;
        if (ok) shown++;
      }
      status.textContent = 'Showing ' + shown + ' of ' + rows.length + ' findings';
    };
    selects.forEach((s) => s.addEventListener('change', apply));
    search.addEventListener('input', apply);
    document.getElementById('f-reset').addEventListener('click', () => {
      selects.forEach((s) => { s.value = ''; });
      search.value = '';
      apply();
    });
    document.querySelector('.filters').hidden = false;

    const heads = Array.from(table.tHead.rows[0].cells);
    heads.forEach((th, col) => {
      const label = th.textContent;
      th.textContent = '';
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = label;
      th.appendChild(b);
      b.addEventListener('click', () => {
        const dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
        heads.forEach((h) => h.removeAttribute('aria-sort'));
        th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
        const num = th.dataset.type === 'num';
        const key = (r) => { const c = r.cells[col]; return c.dataset.sort !== undefined ? c.dataset.sort : c.textContent; };
        const sorted = rows.map((r, i) => [key(r), i, r]).sort((a, b) => {
          const x = num ? (Number(a[0]) || 0) - (Number(b[0]) || 0) : String(a[0]).localeCompare(String(b[0]));
          return x !== 0 ? x * dir : a[1] - b[1];
        });
        for (const [, , r] of sorted) body.appendChild(r);
        status.textContent = status.textContent.replace(/;.*$/, '') + '; sorted by ' + label + (dir === 1 ? ', ascending' : ', descending');
      });
    });
  }

  window.addEventListener('beforeprint', () => { for (const d of $$('details')) d.open = true; });
})();
`;
