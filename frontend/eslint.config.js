// ESLint 9 flat config for MD Analytics' hand-written JavaScript:
//   frontend/src/*.js        ES modules bundled by esbuild for the browser
//   frontend/**/*.mjs, this  Node scripts (build, demo server and checks)
//   app/static/js/*.js       a classic browser script, served as is
// `npm run lint` runs ESLint from the repository root with this file, because ESLint does not
// lint files outside the directory it starts from (app/static/js is outside frontend/). Each
// block has an absolute basePath, so its patterns mean the same wherever ESLint is started.
import js from "@eslint/js";
import globals from "globals";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const staticJs = path.resolve(here, "../app/static/js");

export default [
  { basePath: here, ignores: ["node_modules/"] },
  js.configs.recommended,
  {
    name: "md/bundle-sources",
    basePath: here,
    files: ["src/**/*.js"],
    languageOptions: { sourceType: "module", globals: globals.browser },
  },
  {
    name: "md/node-scripts",
    basePath: here,
    files: ["**/*.mjs", "eslint.config.js"],
    languageOptions: { sourceType: "module", globals: globals.node },
  },
  {
    name: "md/demo-check",
    basePath: here,
    files: ["demo/check.mjs"],
    // The callbacks passed to Playwright's page.evaluate/addInitScript run in the page.
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
  {
    name: "md/static-scripts",
    basePath: staticJs,
    files: ["**/*.js"],
    // Served without a build step: keep it to what the bundles target (esbuild es2020).
    languageOptions: { ecmaVersion: 2020, sourceType: "script", globals: globals.browser },
  },
  {
    linterOptions: { reportUnusedDisableDirectives: "error" },
  },
];
