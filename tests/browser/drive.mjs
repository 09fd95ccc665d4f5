// The browser test's driver: a chat host in miniature. It connects to mcp-docker over streamable HTTP
// with the MCP SDK (declaring the MCP Apps extension), reads each view's ui:// resource, calls the tool
// the view is bound to, renders the view in headless Chromium inside a host page that uses the
// ext-apps AppBridge, relays the view's tools/call to the server, clicks like a person, and writes
// what it saw to a JSON file for pytest to check against the engine.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const plan = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const mods = plan.node_modules;
const req = createRequire(path.join(mods, "noop.js"));
const { chromium } = req("playwright-core");
const sdk = (p) => import(pathToFileURL(path.join(mods, "@modelcontextprotocol/sdk/dist/esm", p)).href);
const { Client } = await sdk("client/index.js");
const { StreamableHTTPClientTransport } = await sdk("client/streamableHttp.js");

const out = { steps: {}, calls: [], errors: [], consoleErrors: [] };
const check = (name, ok, detail) => {
  out.steps[name] = { ok: !!ok, detail: detail === undefined ? null : detail };
};

const client = new Client(
  { name: "mcpt-test-host", version: "1.0.0" },
  { capabilities: { extensions: { "io.modelcontextprotocol/ui": { mimeTypes: ["text/html;profile=mcp-app"] } } } },
);
await client.connect(
  new StreamableHTTPClientTransport(new URL(plan.url), {
    requestInit: { headers: { Authorization: `Bearer ${plan.token}` } },
  }),
);
const tools = (await client.listTools()).tools;
const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
const modelTools = tools.filter((t) => !(t._meta?.ui?.visibility && !t._meta.ui.visibility.includes("model")));
out.appOnly = tools.filter((t) => !modelTools.includes(t)).map((t) => t.name);

const browser = await chromium.launch({ executablePath: plan.chromium, args: ["--no-sandbox", "--disable-gpu"] });
const page = await browser.newPage({ viewport: { width: plan.width + 40, height: 800 } });
page.on("console", (m) => { if (m.type() === "error") out.consoleErrors.push(m.text()); });
page.on("pageerror", (e) => out.consoleErrors.push(String(e)));
await page.exposeFunction("relayCallTool", async (params) => {
  const tool = byName[params.name];
  const vis = tool?._meta?.ui?.visibility ?? ["model", "app"];
  if (!tool || !vis.includes("app")) throw new Error(`tool ${params.name} is not callable by apps`);
  const result = await client.callTool(params);
  out.calls.push({ name: params.name, arguments: params.arguments, isError: !!result.isError });
  hidden(result);
  return result;
});
// A card's secret (in _meta) must appear nowhere the model reads.
function hidden(result) {
  const token = result._meta?.["io.github.mcp-docker/confirmation"]?.token;
  if (token) {
    const modelSees = JSON.stringify({ content: result.content, structuredContent: result.structuredContent });
    out.tokenHiddenFromModel = (out.tokenHiddenFromModel ?? true) && !modelSees.includes(token);
    out.cardsSeen = (out.cardsSeen ?? 0) + 1;
  }
}
const bundle = fs.readFileSync(plan.host_bundle, "utf8");
await page.setContent(`<!doctype html><html><head><style>
  html { background: #f3f4f6; color: #111; font: 13px system-ui, sans-serif; }
  html[data-theme="dark"] { background: #0f1115; color: #ddd; }
  body { margin: 0; padding: 20px; }
  iframe { border: 1px solid #8884; border-radius: 10px; display: block; background: transparent; }
  .bar { margin: 0 0 8px; opacity: .7; }
</style></head><body><div class="bar">mcp-docker — MCP Apps view (test host, ext-apps AppBridge)</div><div id="slot"></div>
<script>${bundle}</script></body></html>`);

const view = () => page.frameLocator("#view");
async function open(toolName, args, theme = "light", width = plan.width) {
  const uri = byName[toolName]._meta.ui.resourceUri;
  const res = await client.readResource({ uri });
  const content = res.contents[0];
  out.resources = out.resources || {};
  out.resources[uri] = { mimeType: content.mimeType, csp: content._meta?.ui?.csp ?? null };
  const result = await client.callTool({ name: toolName, arguments: args });
  hidden(result);
  const tool = { name: toolName, inputSchema: byName[toolName].inputSchema };
  await page.evaluate((p) => window.openView(p), {
    html: content.text, toolInput: args, toolResult: result, theme, tool, width,
  });
}
async function shot(name) {
  if (!plan.screenshots) return;
  await page.waitForTimeout(300); // let the iframe settle its reported height
  const box = await page.locator("#view").boundingBox();
  await page.screenshot({ path: path.join(plan.screenshots, `${name}.png`), clip: { x: 0, y: 0, width: plan.width + 40, height: Math.ceil(box.y + box.height + 20) } });
}
async function both(name) {
  await shot(`${name}-light`);
  await page.evaluate(() => window.setTheme("dark"));
  await view().locator("html[data-theme=dark]").waitFor();
  await shot(`${name}-dark`);
  await page.evaluate(() => window.setTheme("light"));
}
const step = async (name, fn) => {
  try {
    await fn();
  } catch (err) {
    check(name, false, String(err && err.stack || err));
  }
};
const T = { timeout: 20000 };
const rowOf = (name) => view().locator(`tr[data-name="${name}"]`);

await step("containers", async () => {
  await open("docker_list_containers", { all: true, filters: { label: [plan.label] } });
  for (const name of plan.listed) await rowOf(name).waitFor(T);
  const names = await view().locator("tbody tr td.name").allTextContents();
  check("containers", plan.listed.every((n) => names.includes(n)), names);
  await both("containers");
});
await step("stop", async () => {
  await rowOf(plan.stop).locator("button[data-action=stop]").click();
  await rowOf(plan.stop).locator("td.state.exited").waitFor(T);
  check("stop", true);
});
await step("dismiss", async () => {
  await rowOf(plan.keep).locator("button[data-action=remove]").click();
  await view().locator("#confirm-card").waitFor(T);
  const question = await view().locator("#confirm-question").textContent();
  await view().locator("#confirm-no").click();
  await view().locator("#confirm-card").waitFor({ state: "detached", ...T });
  await page.waitForTimeout(500);
  check("dismiss", question.includes(plan.keep), question);
});
await step("remove", async () => {
  await rowOf(plan.remove).locator("button[data-action=remove]").click();
  await view().locator("#confirm-card").waitFor(T);
  out.question = await view().locator("#confirm-question").textContent();
  const before = await client.callTool({ name: "docker_inspect_container", arguments: { container: plan.remove } });
  out.existsWhileCardShown = !before.isError;
  await both("confirm-card");
  await view().locator("#confirm-yes").click();
  await rowOf(plan.remove).waitFor({ state: "detached", ...T });
  check("remove", true);
});
// The model itself calls a destructive tool: this client cannot elicit, so the call does nothing and
// its result opens the confirmation card view; only the person's press removes the container.
const exists = async (name) =>
  !(await client.callTool({ name: "docker_inspect_container", arguments: { container: name } })).isError;
await step("model-card", async () => {
  await open("docker_remove_container", { container: plan.modelRemove, force: true });
  await view().locator("#confirm-card").waitFor(T);
  out.modelQuestion = await view().locator("#confirm-question").textContent();
  out.modelCardBound = byName.docker_remove_container._meta?.ui?.resourceUri ?? null;
  out.existsWhileModelCardShown = await exists(plan.modelRemove);
  await both("model-card");
  await view().locator("#confirm-yes").click();
  await view().locator("#outcome[data-outcome=done]").waitFor(T);
  out.modelOutcome = await view().locator("#outcome").textContent();
  check("model-card", out.modelQuestion.includes(plan.modelRemove) && !(await exists(plan.modelRemove)), out.modelOutcome);
});
await step("model-card-dismiss", async () => {
  await open("docker_remove_container", { container: plan.modelKeep, force: true });
  await view().locator("#confirm-card").waitFor(T);
  await view().locator("#confirm-no").click();
  await view().locator("#outcome[data-outcome=dismissed]").waitFor(T);
  await page.waitForTimeout(300);
  check("model-card-dismiss", await exists(plan.modelKeep));
});
await step("logs", async () => {
  await open("docker_container_logs", { container: plan.logs });
  await view().locator(".line", { hasText: plan.needle }).first().waitFor(T);
  // stdout and stderr told apart: the line printed on stderr is marked, the needle (stdout) is not.
  await view().locator(".line.stderr", { hasText: plan.onStderr }).waitFor(T);
  const stderrLines = await view().locator(".line.stderr .msg").allTextContents();
  const needleOnStdout = await view().locator(".line:not(.stderr)", { hasText: plan.needle }).count();
  const all = await view().locator(".line .msg").allTextContents();
  const stamped = await view().locator(".line .ts").count();
  await view().locator("#search").fill(plan.needle);
  await view().locator("#count", { hasText: "match" }).waitFor(T);
  const hits = await view().locator(".line .msg").allTextContents();
  out.logs = { all, hits, stamped, stderrLines, needleOnStdout, xssFlag: await view().locator("body[data-pwned]").count() };
  const split = stderrLines.length === 1 && stderrLines[0] === plan.onStderr && needleOnStdout === 1;
  check("logs", all.includes(plan.needle) && hits.length === 1 && hits[0] === plan.needle && stamped > 0 && split, out.logs);
  await view().locator("#search").fill("");
  await both("logs");
});
await step("xss", async () => {
  const shown = await view().locator(".line .msg", { hasText: "<img" }).allTextContents();
  const flag = await view().locator("body[data-pwned]").count();
  const imgs = await view().locator("#lines img").count();
  check("xss", shown.includes(plan.payload) && flag === 0 && imgs === 0, { shown, flag, imgs });
});
await step("stats", async () => {
  await open("docker_container_stats", { container: plan.stats });
  const cpu = view().locator('svg[data-chart="cpu"] polyline');
  await cpu.first().waitFor({ state: "attached", ...T });
  for (let i = 0; i < 100 && Number(await cpu.getAttribute("data-points")) < 6; i++) await page.waitForTimeout(200);
  const points = await cpu.getAttribute("points");
  check("stats", points.split(" ").length >= 6, points);
  await both("stats");
});
await step("narrow", async () => {
  await page.setViewportSize({ width: 420, height: 800 });
  await open("docker_list_containers", { all: true, filters: { label: [plan.label] } }, "light", 380);
  await rowOf(plan.stop).waitFor(T);
  await shot("containers-narrow");
  const wide = await view().locator("html").evaluate((h) => h.scrollWidth <= h.clientWidth + 1);
  check("narrow", wide, "no horizontal scroll at 380px");
  await page.setViewportSize({ width: plan.width + 40, height: 800 });
});
if (plan.compose) {
  await step("compose", async () => {
    await open("docker_compose_operations", plan.compose);
    await view().locator("section.service").first().waitFor(T);
    const services = await view().locator("section.service").evaluateAll((s) => s.map((x) => x.dataset.service));
    check("compose", plan.composeServices.every((s) => services.includes(s)), services);
    await both("compose");
  });
}
out.messages = await page.evaluate(() => window.__messages);
await browser.close();
await client.close();
fs.writeFileSync(plan.result, JSON.stringify(out, null, 1));
