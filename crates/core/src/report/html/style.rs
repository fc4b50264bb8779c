//! The page's stylesheet, inlined into `<head>` (the page's CSP allows inline styles and
//! nothing else): layout, verdict colours, the SVG text classes, and print rules.

/// All the page's CSS, for screen and print.
pub(super) const CSS: &str = r#"
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: #1d1d1f; background: #fff; max-width: 1100px; margin: 0 auto; padding: 1.5rem; line-height: 1.45; }
h1 { font-size: 1.8rem; margin: 0 0 .6rem; }
h2 { font-size: 1.35rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; margin-top: 2rem; }
h3 { font-size: 1.1rem; margin: 1.2rem 0 .4rem; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: .9em; }
pre { background: #f5f5f7; border: 1px solid #ddd; border-radius: 4px; padding: .6rem .8rem;
  white-space: pre-wrap; word-break: break-all; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .92rem; }
th, td { border: 1px solid #ccc; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f0f0f2; }
table.inputs { font-size: .82rem; }
table.inputs td { overflow-wrap: anywhere; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: .5rem 0; }
dl.facts dt { font-weight: 600; color: #444; }
dl.facts dd { margin: 0; }
p.headline { font-size: 1.25rem; font-weight: 600; margin: .3rem 0 1rem; }
ol.groups > li { margin-bottom: 1rem; }
ol.groups p { margin: .25rem 0; }
.muted { color: #555; }
td.nowrap, table.flow-rows td { white-space: nowrap; }
section.group { margin-top: 2.2rem; }
.counts { display: flex; flex-wrap: wrap; gap: 0 2rem; }
.note { background: #fff8e1; border-left: 4px solid #f9a825; padding: .4rem .7rem; }
.badge { display: inline-block; padding: .05rem .55rem; border-radius: 999px; color: #fff;
  font-size: .85rem; font-weight: 600; }
.badge.v-peer { background: #2e7d32; }
.badge.v-firewall { background: #ef6c00; }
.badge.v-middlebox { background: #c62828; }
.badge.v-unknown { background: #757575; }
.points-peer { color: #2e7d32; font-weight: 600; }
.points-path { color: #c62828; font-weight: 600; }
.points-neither { color: #757575; }
ul.warnings li { color: #8a4b00; }
section.flow { border: 1px solid #ddd; border-radius: 6px; padding: .2rem 1rem 1rem; margin: 1.5rem 0; }
section.flow h2 { margin-top: .8rem; }
.reset { border-top: 1px dashed #ccc; margin-top: 1rem; }
figure { margin: 1rem 0; }
figcaption { font-size: .85rem; color: #555; }
svg { max-width: 100%; height: auto;
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; }
svg text { font-size: 11px; fill: #222; }
svg .lbl { paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }
svg .head { font-weight: 700; font-size: 12px; }
svg .muted { fill: #666; }
svg .claim { fill: #c62828; font-style: italic; }
svg .gap-label { font-style: italic; fill: #555; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  section.flow, figure, tr { page-break-inside: avoid; break-inside: avoid; }
  .badge, svg { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
  a { color: inherit; text-decoration: none; }
}
"#;
