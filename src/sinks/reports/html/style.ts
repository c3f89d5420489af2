// The page's stylesheet, inlined: the report must open from disk with no fetch. Colours
// keep 4.5:1 against white for text (deny #b3261e 6.0:1, warn #8a5a00 5.9:1, audit #5b3fa3
// 7.9:1, ok #1f6f8b 5.9:1; WCAG 2.2 SC 1.4.3) and 3:1 for marker shapes (SC 1.4.11).
export const CSS = `
:root{color-scheme:light;--fg:#1b1f24;--muted:#4d5560;--line:#c9ced6;--bg:#fff;--panel:#f5f7fa;--deny:#b3261e;--warn:#8a5a00;--audit:#5b3fa3;--ok:#1f6f8b;--focus:#0b57d0}
*{box-sizing:border-box}
[hidden]{display:none!important}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:var(--fg);background:var(--bg)}
a{color:#0b57d0}
.skip{position:absolute;left:-999px;top:0;background:#fff;padding:6px 10px;z-index:10}
.skip:focus{left:8px}
header{padding:16px 24px 8px;border-bottom:1px solid var(--line)}
header h1{margin:0 0 4px;font-size:22px}
header p{margin:0;color:var(--muted)}
nav ul{list-style:none;display:flex;flex-wrap:wrap;gap:4px 18px;margin:8px 0 0;padding:0}
main{padding:8px 24px 40px;max-width:1400px}
section{margin-top:22px}
h2{font-size:18px;margin:0 0 8px;padding-bottom:4px;border-bottom:2px solid var(--line)}
h3{font-size:15px;margin:14px 0 6px}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:0;padding:0;list-style:none}
.cards li{border:1px solid var(--line);border-radius:6px;padding:8px 14px;min-width:120px;background:var(--panel)}
.cards .n{display:block;font-size:24px;font-weight:700}
.cols{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}
table{border-collapse:collapse;margin:4px 0}
th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:var(--panel);font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
code,.mono{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:12.5px}
.act{font-weight:700;white-space:nowrap}
.act-deny{color:var(--deny)}.act-warn{color:var(--warn)}.act-audit{color:var(--audit)}.act-ok{color:var(--ok)}
.ico{width:16px;height:16px;vertical-align:-3px}
.ico.sw{width:24px;height:14px}
.legend{list-style:none;display:flex;flex-wrap:wrap;gap:4px 18px;padding:0;margin:6px 0}
figure{margin:8px 0 14px}
figcaption{color:var(--muted);margin-bottom:4px}
svg.map{width:100%;height:auto;display:block;font:11px system-ui,sans-serif;overflow:visible}
svg.defs{position:absolute}
.panel{fill:var(--panel);stroke:var(--line)}
.cap{fill:var(--muted);font-weight:600}
.lane{fill:var(--fg);font-weight:600}
.axis line,.axis path{stroke:#6b7380;stroke-width:1}
.axis text{fill:var(--fg);font-variant-numeric:tabular-nums}
.brk{stroke:#6b7380;fill:none;stroke-width:1.4}
.band rect{stroke-width:1}
.b-res rect{fill:url(#hatch);stroke:var(--deny)}
.b-np rect{fill:#dbe8f6;stroke:#4a6fa5}
.b-ten rect{stroke:#3b4250;stroke-dasharray:3 2}
.t0 rect{fill:#b9d7f2}.t1 rect{fill:#c4e8bb}.t2 rect{fill:#f3d9a8}.t3 rect{fill:#dccdf2}.t4 rect{fill:#f4c4d1}.t5 rect{fill:#bfe6e2}.t6 rect{fill:#e8e8a8}.t7 rect{fill:#d6d6d6}
.slice{fill:#111;font-weight:600;paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}
.leader{stroke:#3b4250;stroke-width:1}
.static path{fill:none;stroke:#1b1f24;stroke-width:2.5}
.mk{cursor:pointer;outline:none}
.mk>*{stroke:#fff;stroke-width:1.2}
.k-ok>*{fill:var(--ok)}.k-deny>*{fill:var(--deny)}.k-warn>*{fill:var(--warn)}.k-audit>*{fill:var(--audit)}
.mk:hover>*,.mk:focus>*{stroke:var(--focus);stroke-width:3}
.mk:focus-visible>*{stroke:#000;stroke-width:3.5}
#tip{position:absolute;z-index:20;max-width:560px;white-space:pre-line;background:#1b1f24;color:#fff;padding:8px 10px;border-radius:6px;font-size:12.5px;line-height:1.4;box-shadow:0 2px 8px rgba(0,0,0,.3);pointer-events:none}
.usage{display:inline-block;width:120px;height:12px;border:1px solid #3b4250;background:#fff;vertical-align:-2px;margin-right:6px}
.usage>span{display:block;height:100%;background:#4a6fa5}
.bad{color:var(--deny);font-weight:600}
ul.holders{margin:0;padding-left:16px}
.exp{border:1px solid var(--line);border-radius:6px;padding:8px 12px;margin:8px 0;background:#fff}
.exp h3{margin:0 0 4px}
.exp pre{background:var(--panel);padding:6px 8px;margin:2px 0;overflow:auto;max-height:320px}
.exp .cols>div{flex:1 1 320px;min-width:0}
.filters{display:flex;flex-wrap:wrap;gap:8px 14px;align-items:flex-end;margin:6px 0}
.filters label{display:flex;flex-direction:column;font-size:12.5px;color:var(--muted)}
.filters select,.filters input,.filters button{font:inherit;padding:3px 6px;border:1px solid #6b7380;border-radius:4px;background:#fff;color:var(--fg)}
#findings-table{width:100%}
#findings-table th button{font:inherit;font-weight:600;background:none;border:0;padding:0;cursor:pointer;color:inherit;text-align:left}
#findings-table th[aria-sort=ascending] button::after{content:" \\25B2"}
#findings-table th[aria-sort=descending] button::after{content:" \\25BC"}
#findings-table td.path{min-width:12em}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.muted{color:var(--muted)}
@media print{
  @page{margin:12mm}
  body{font-size:10pt}
  .skip,nav,.filters,#tip{display:none!important}
  main{padding:0;max-width:none}
  header{padding:0 0 6px}
  section{break-inside:auto}
  figure,tr,.exp,.cards li{break-inside:avoid}
  thead{display:table-header-group}
  svg.map,.band rect,.mk>*,.usage>span{print-color-adjust:exact;-webkit-print-color-adjust:exact}
  .exp pre{max-height:none;overflow:visible;white-space:pre-wrap}
  a{color:inherit;text-decoration:none}
}
`;
