// The test host page's script (bundled by esbuild for the browser): renders one MCP Apps view in a
// sandboxed iframe with the host bridge of @modelcontextprotocol/ext-apps, the way a chat host does.
// Tool calls the view makes go to `window.relayCallTool`, which the Node driver wires to its real MCP
// client connection to mcp-docker (Playwright exposeFunction).
import { AppBridge, PostMessageTransport } from "@modelcontextprotocol/ext-apps/app-bridge";

window.__messages = [];
window.__bridge = null;

window.openView = async ({ html, toolInput, toolResult, theme, tool, width }) => {
  document.documentElement.dataset.theme = theme;
  const slot = document.getElementById("slot");
  if (window.__bridge) await window.__bridge.close?.();
  const iframe = document.createElement("iframe");
  iframe.id = "view";
  iframe.setAttribute("sandbox", "allow-scripts"); // opaque origin: no access to the host page
  iframe.style.width = `${width}px`;
  iframe.style.height = "200px";
  slot.replaceChildren(iframe);
  window.__context = {
    theme,
    displayMode: "inline",
    availableDisplayModes: ["inline"],
    platform: "web",
    locale: "en-GB",
    containerDimensions: { width, maxHeight: 900 },
    toolInfo: { tool },
  };
  const bridge = new AppBridge(
    null,
    { name: "mcpt-test-host", version: "1.0.0" },
    { serverTools: {}, logging: {}, message: { text: {} } },
    { hostContext: window.__context },
  );
  bridge.oncalltool = async (params) => window.relayCallTool(params);
  bridge.onmessage = async (params) => {
    window.__messages.push(params);
    return {};
  };
  bridge.onsizechange = ({ height }) => {
    if (height) iframe.style.height = `${Math.min(height + 4, 900)}px`;
  };
  bridge.oninitialized = async () => {
    await bridge.sendToolInput({ arguments: toolInput });
    await bridge.sendToolResult(toolResult);
  };
  await bridge.connect(new PostMessageTransport(iframe.contentWindow, iframe.contentWindow));
  window.__bridge = bridge;
  iframe.srcdoc = html;
};

window.setTheme = (theme) => {
  document.documentElement.dataset.theme = theme;
  window.__context = { ...window.__context, theme };
  window.__bridge.setHostContext(window.__context);
};
