import type { App } from "../app.js";
import { APP_NAMES, type AppName } from "../data.js";
import { coffee } from "./coffee.js";
import { diet } from "./diet.js";
import { facility } from "./facility.js";
import { netflow } from "./netflow.js";
import { tsp } from "./tsp.js";
import { workforce1 } from "./workforce1.js";

export const APPS: Record<AppName, App> = { coffee, diet, facility, netflow, tsp, workforce1 };

/** The app with this name; throws a clear error listing the six apps otherwise. */
export function getApp(name: string): App {
  const app = (APPS as Record<string, App>)[name];
  if (!app) throw new Error(`unknown app "${name}" (apps: ${APP_NAMES.join(", ")})`);
  return app;
}

export { coffee, diet, facility, netflow, tsp, workforce1 };
