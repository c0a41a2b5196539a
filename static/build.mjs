// Copies the browser assets the console needs from node_modules into static/vendor,
// where static/embed.go embeds them into the binary. Run with `npm run assets` after
// `npm ci`. The list lives in static/vendor.json so Go can verify the same list at start-up.
//
// Plain Node, no dependencies: the build must work with nothing but the npm registry.
import { copyFile, mkdir, readFile, readdir, rm } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const modules = join(root, "node_modules");
const vendor = join(here, "vendor");

const { files } = JSON.parse(await readFile(join(here, "vendor.json"), "utf8"));

// Start from an empty vendor/ (keeping .gitkeep) so a dependency dropped from the list
// does not linger in the embedded files.
for (const entry of await readdir(vendor)) {
  if (entry !== ".gitkeep") {
    await rm(join(vendor, entry), { recursive: true, force: true });
  }
}

let failed = false;
for (const [dest, src] of Object.entries(files)) {
  const from = join(modules, src);
  const to = join(vendor, dest);
  try {
    await mkdir(dirname(to), { recursive: true });
    await copyFile(from, to);
    console.log(`static/vendor/${dest} <- ${relative(root, from)}`);
  } catch (err) {
    failed = true;
    console.error(`cannot copy ${relative(root, from)}: ${err.code ?? err.message}`);
  }
}
if (failed) {
  console.error("static/build.mjs: some assets are missing; run `npm ci` first.");
  process.exit(1);
}
