import { defineConfig } from "vitest/config";

// Tests import workspace packages through their "source" export condition, so they run
// against src/ without a build step; the published entry points (dist/) are checked by tsc -b.
const conditions = ["source", "import", "module", "node", "default"];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ["source"] } },
  test: {
    include: ["packages/*/src/**/*.test.ts", "packages/*/test/**/*.test.ts", "bench/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // Node runs the forks with --conditions=source, which sends externalized imports of
    // eventsource-parser (MCP's HTTP client) to its TypeScript sources: let Vite transform them.
    server: {
      deps: {
        inline: [
          /@modelcontextprotocol\/sdk\/dist\/esm\/client\/(streamableHttp|sse)\.js/,
          /eventsource/,
        ],
      },
    },
  },
});
