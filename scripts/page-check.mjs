// Drives serve's page at / in headless Chromium (Playwright, playwright-core) as a person
// would: for every model the server has, pick it, type a text, press Analyse, and check what
// the page shows against the API's own answer for the same text. A tagger must highlight
// exactly the API's entities, each with its type and confidence, and a CRF tagger list its 3
// best taggings. A classifier must draw one
// bar per label with the API's probability. Screenshots go to OUT_DIR/page-<model>.png.
//
//   node scripts/page-check.mjs URL OUT_DIR ["tagger sentence"] ["classifier text"]
//
// playwright-core is found through NODE_PATH, or in ~/.cache/seqlab/node (scripts/page-check.sh
// installs it there). The browser is Debian's chromium (apt-get install -y chromium).
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { join } from "node:path";

const require = createRequire(join(homedir(), ".cache/seqlab/node/"));
const { chromium } = require("playwright-core");

const [url, outDir, paragraph = "EU rejects German call to boycott British lamb. Peter Blackburn reported from Brussels.",
  sentence = "EU rejects German call to boycott British lamb.",
  review = "a gripping , beautifully acted film ."] = process.argv.slice(2);
if (!url || !outDir) {
  console.error("usage: node scripts/page-check.mjs URL OUT_DIR [paragraph] [sentence] [review]");
  process.exit(2);
}

function check(condition, message) {
  if (!condition) {
    console.error("FAIL: " + message);
    process.exitCode = 1;
  }
  return condition;
}

async function api(model, text, nbest = 0, sentences = false) {
  const response = await fetch(`${url}/v1/models/${model}/predict`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ texts: [text], nbest, sentences }),
  });
  return (await response.json()).predictions[0];
}

async function checkTagger(page, model) {
  // A paragraph: its entities highlighted where the API puts them.
  await page.fill("#nbest", "0");
  await page.fill("#text", paragraph);
  await page.click("#go");
  await page.waitForSelector(".card.tagged");
  const expected = await api(model.name, paragraph, 0, true);
  const marks = await page.$$eval(".card.tagged mark.ent", (nodes) => nodes.map((n) => ({
    label: n.dataset.label, text: n.childNodes[0].textContent, confidence: n.querySelector("i").textContent,
  })));
  check(marks.length === expected.entities.length,
    `${model.name}: ${marks.length} entities highlighted, the API gives ${expected.entities.length}`);
  const chars = Array.from(paragraph);
  expected.entities.forEach((e, i) => {
    const m = marks[i] || {};
    const at = chars.slice(e.start_char, e.end_char).join("");
    check(m.label === e.label && m.text === e.text && m.text === at && m.confidence === e.confidence.toFixed(3),
      `${model.name}: entity ${i} shown as ${JSON.stringify(m)}, the API gives ${e.text} (${at}) ${e.label} ${e.confidence}`);
  });
  // The text shown is the paragraph as typed, the marks' type and confidence aside.
  const shown = await page.$eval(".card.tagged .sentence", (n) => Array.from(n.childNodes)
    .map((c) => c.nodeType === Node.TEXT_NODE ? c.textContent : c.childNodes[0].textContent).join(""));
  check(shown === paragraph, `${model.name}: the page shows ${JSON.stringify(shown)}`);
  await page.screenshot({ path: join(outDir, `page-${model.name}-paragraph.png`), fullPage: true });
  console.log(`${model.name}: ${marks.map((m) => `${m.text} [${m.label} ${m.confidence}]`).join("; ") || "no entities"}`);
  if (!model.nbest) return;
  // One sentence with its 3 best taggings.
  await page.fill("#nbest", "3");
  await page.fill("#text", sentence);
  await page.click("#go");
  await page.waitForFunction(() => document.querySelectorAll(".card.tagged table").length === 2);
  const best = await api(model.name, sentence, 3, true);
  const rows = await page.$$eval(".card.tagged table:last-of-type tr", (nodes) => nodes.length - 1);
  check(rows === best.alternatives.length, `${model.name}: ${rows} n-best rows, the API gives ${best.alternatives.length}`);
}

async function checkClassifier(page, model) {
  const expected = await api(model.name, review);
  await page.fill("#text", review);
  await page.click("#go");
  await page.waitForSelector(".card.classified");
  const bars = await page.$$eval(".card.classified .bar", (nodes) => nodes.map((n) => ({
    label: n.dataset.label, p: n.querySelector(".p").textContent, best: n.classList.contains("best"),
  })));
  check(bars.length === expected.probabilities.length, `${model.name}: ${bars.length} bars for ${expected.probabilities.length} labels`);
  expected.probabilities.forEach(([label, p], i) => {
    const bar = bars[i] || {};
    check(bar.label === label && bar.p === p.toFixed(3) && bar.best === (label === expected.label),
      `${model.name}: bar ${i} is ${JSON.stringify(bar)}, the API gives ${label} ${p}`);
  });
  console.log(`${model.name}: ${bars.map((b) => `${b.label} ${b.p}${b.best ? " (best)" : ""}`).join(", ")}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1000, height: 640 } });
  const requests = [];
  page.on("request", (r) => requests.push(r.url()));
  await page.goto(url + "/");
  await page.waitForSelector("#model option", { state: "attached" });
  const models = (await (await fetch(url + "/v1/models")).json()).models;
  for (const model of models) {
    await page.selectOption("#model", model.name);
    if (model.task === "tagger") await checkTagger(page, model); else await checkClassifier(page, model);
    await page.screenshot({ path: join(outDir, `page-${model.name}.png`), fullPage: true });
  }
  const outside = requests.filter((r) => !r.startsWith(url));
  check(outside.length === 0, `the page fetched from elsewhere: ${outside.join(", ")}`);
} finally {
  await browser.close();
}
console.log(process.exitCode ? "page check FAILED" : `page check passed; screenshots in ${outDir}`);
