/**
 * The AutoGen paper's application A5, dynamic group chat: a manager model reads the
 * conversation and picks who speaks next (SelectorGroupChat), so the order of speakers is not
 * fixed in advance. Here a planner, an inventory analyst with tools, and a writer decide which
 * warehouse ships an order and draft the customer's note. The warehouse data is sample data.
 *
 *   npx tsx packages/agents/examples/dynamic-group-chat.ts            # offline, from the fixture
 *   npx tsx packages/agents/examples/dynamic-group-chat.ts --live     # against your endpoint
 */
import { z } from "zod";
import {
  AssistantAgent,
  MaxMessageTermination,
  type ModelClient,
  type ReplayResult,
  SelectorGroupChat,
  TextMentionTermination,
  tool,
} from "../src/index.js";
import { exampleModel, isMain, parseArgs, printRun } from "./shared.js";

export const ORDER_TASK =
  "Order 42 needs 30 units of SKU A-7 delivered within 3 days. Decide which warehouse ships it and draft a short note to the customer.";

/** Sample warehouse data the analyst's tool reads. */
const WAREHOUSES = [
  { warehouse: "north", sku: "A-7", stock: 12, shippingCost: 15.0, days: 2 },
  { warehouse: "south", sku: "A-7", stock: 45, shippingCost: 18.5, days: 3 },
  { warehouse: "east", sku: "A-7", stock: 30, shippingCost: 22.0, days: 2 },
];

export const shippingOptions = tool({
  name: "shipping_options",
  description:
    "Warehouses holding enough of a SKU for an order, with shipping cost (EUR) and delivery days",
  parameters: z.object({ sku: z.string(), quantity: z.number().int().positive() }),
  execute: ({ sku, quantity }) => WAREHOUSES.filter((w) => w.sku === sku && w.stock >= quantity),
});

export const AUTHORED: ReplayResult[] = [
  // selector
  "planner",
  // planner
  "Plan: (1) inventory_analyst finds the warehouses that can ship 30 units of A-7 within 3 days and the cheapest of them; (2) writer drafts the customer note from that choice.",
  // selector
  "inventory_analyst",
  // inventory_analyst: a tool call, then its reflection on the result
  { toolCalls: [{ name: "shipping_options", arguments: { sku: "A-7", quantity: 30 } }] },
  "Two warehouses can ship 30 units of A-7: south (45 in stock, EUR 18.50, 3 days) and east (30 in stock, EUR 22.00, 2 days). Both meet the 3-day limit; south is cheaper, so south ships.",
  // selector
  "writer",
  // writer
  "Dear customer, your order 42 (30 x A-7) ships today from our south warehouse and will arrive within 3 days. Thank you for your order!\n\nTERMINATE",
];

export function orderTeam(model: ModelClient) {
  const planner = new AssistantAgent("planner", {
    modelClient: model,
    description: "Breaks the task into steps and says who should do each.",
    systemMessage:
      "You plan. Break the task into steps for the other agents; do not do the steps yourself.",
  });
  const analyst = new AssistantAgent("inventory_analyst", {
    modelClient: model,
    description: "Looks up stock and shipping options with tools and recommends a warehouse.",
    systemMessage:
      "You answer inventory and shipping questions using your tools, then recommend one option.",
    tools: [shippingOptions],
    reflectOnToolUse: true,
  });
  const writer = new AssistantAgent("writer", {
    modelClient: model,
    description: "Writes the final message to the customer once the decision is made.",
    systemMessage: "You write short, friendly customer notes. End your message with TERMINATE.",
  });
  return new SelectorGroupChat([planner, analyst, writer], {
    name: "order_desk",
    model,
    termination: new TextMentionTermination("TERMINATE").or(new MaxMessageTermination(12)),
  });
}

if (isMain(import.meta.url)) {
  const args = parseArgs(process.argv.slice(2));
  const model = exampleModel("dynamic-group-chat", {
    live: args.live,
    record: args.record,
    ...(args.author ? { author: AUTHORED } : {}),
  });
  await printRun(orderTeam(model), args.task ?? ORDER_TASK);
}
