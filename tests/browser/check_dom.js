// Checks the DOM of the report after Chromium rendered it (tests/browser/test_report_browser.sh):
//   node check_dom.js REPORT.html DOM.html CONSOLE.log
// REPORT.html is the page as lenetlab wrote it (the chart specs are read from it), DOM.html the
// document after the scripts ran (chromium --dump-dom), CONSOLE.log Chromium's log (stderr with
// --enable-logging=stderr). Fails (exit 1, one line per problem) unless every chart element holds
// a drawn Vega view (an <svg class="marks">), no chart shows an error, the page wrote nothing to the
// console, and the markup planted in names stayed text.
'use strict';
const fs = require('fs');
const [reportPath, domPath, logPath] = process.argv.slice(2);
const report = fs.readFileSync(reportPath, 'utf8');
const dom = fs.readFileSync(domPath, 'utf8');
const log = fs.readFileSync(logPath, 'utf8');
const problems = [];

const start = '<script id="lenetlab-charts" type="application/json">';
const from = report.indexOf(start);
if (from < 0) problems.push('no chart specs in the report');
const specs = from < 0 ? {} : JSON.parse(report.slice(from + start.length, report.indexOf('</script>', from)));
const ids = Object.keys(specs);

// Each chart element, up to the next one, must contain the root <svg> Vega draws.
let drawn = 0;
for (const id of ids) {
  const at = dom.indexOf(`id="${id}"`);
  if (at < 0) { problems.push(`${id}: no element for this spec`); continue; }
  const next = dom.indexOf('id="chart-', at + 1);
  const element = dom.slice(dom.lastIndexOf('<', at), next < 0 ? undefined : next);
  if (/chart-error/.test(element.slice(0, 200))) problems.push(`${id}: ${element.slice(0, 160)}`);
  else if (!/<svg[^>]*class="marks"/.test(element)) problems.push(`${id}: nothing drawn`);
  else ++drawn;
}
const svgs = (dom.match(/<svg[^>]*class="marks"/g) || []).length;
if (svgs !== ids.length) problems.push(`${svgs} Vega views drawn for ${ids.length} chart specs`);

// Anything on the console is a failure: the page logs nothing when all goes well (Vega's
// warnings included).
const consoleLines = log.split('\n').filter((line) => /:CONSOLE[:(]/.test(line));
for (const line of consoleLines) problems.push(`console: ${line}`);

// Planted markup must stay text: no <img> element outside the scripts (the page has none of its
// own; vega-embed's source holds one in a string), the handler never ran, and the name is shown.
const markup = dom.replace(/<script\b[\s\S]*?<\/script>/gi, '');
if (/<img[\s>]/i.test(markup)) problems.push('an <img> element made it into the page');
if (/data-xss=/.test(markup)) problems.push('the onerror handler of a planted name ran');
if (!markup.includes('&lt;img src=x onerror=')) problems.push('the planted name is not shown as text');

const selects = (dom.match(/<select/g) || []).length;
console.log(`${ids.length} chart specs, ${drawn} drawn, ${svgs} Vega views, ${selects} selectors, ` +
            `${consoleLines.length} console messages`);
if (problems.length) {
  for (const p of problems) console.log(`FAIL ${p}`);
  process.exit(1);
}
