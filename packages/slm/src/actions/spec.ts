/**
 * What the action language knows about an app: its entities (typed names), its parameters (data
 * values an action may read or change) and its decisions (model variables an action may read,
 * forbid, force or bound). Written from each app's semantics (`data/apps/<app>.md` and the app
 * code), never from the benchmark's templates.
 *
 * Surface names are lower case with `_` for a space (`hot_dog`, `new_york`); numbered entities
 * carry their type (`plant3`, `point9`) so that a key's parts can come in either order.
 */
import type { AppData, AppName } from "@athanor/optiguide";

/** A JSON value as the apps' data holds it. */
export type Json = AppData[string];

/** A kind of named thing in an app (suppliers, foods, points, ...). */
export interface EntityType {
  /** Singular type name, as in `supplier`. */
  name: string;
  /** Surface names (lower case, `_` for spaces) → the app's own name (`cafe1`, `hot dog`, `3`). */
  members: Map<string, string>;
  /**
   * Groups a key may name instead of one member (workforce1: `monday` → Mon1, Mon8). Surface
   * name → surface names of the members.
   */
  groups?: Map<string, string[]>;
}

/** A data value an action may read or change. */
export interface ParamSpec {
  /** Surface name (`capacity`, `ship_cost`). */
  name: string;
  doc: string;
  /** Entity type of each key part, in surface order. */
  keys: string[];
  /**
   * Where the value lives in `data` for one key (app names): paths such as
   * `["capacity_in_supplier", "supplier1"]` or `["transCosts", 2, 0]`; usually one, two for
   * `coffee demand` (light and dark). Empty when the key has no value.
   */
  refs(key: string[]): DataPath[];
  /** The path a new value would take (`set ... =V` on a key with no value), when allowed. */
  newRef?(key: string[]): DataPath;
  /** Note for a value that exists in the data but that the model never uses. */
  unused?(key: string[]): string | undefined;
}

/** A data field and the keys into it: `["cost", "Pens,Detroit,Boston"]`, `["transCosts", 2, 0]`. */
export type DataPath = [string, ...(string | number)[]];

/** A model decision an action may read, forbid, force or bound. */
export interface DecisionSpec {
  name: string;
  doc: string;
  keys: string[];
  /** The model's variable names for one key (app names); several for `coffee deliver`. */
  vars(key: string[]): string[];
  /** Unit of one "use" (binary decisions: 1; flows: one unit). */
  binary: boolean;
}

/** A sum of decisions per key (workforce1: the shifts a worker works). */
export interface TotalSpec {
  name: string;
  doc: string;
  keys: string[];
  /** The sum in the edit's expression language (`sum(x[Bob,*])`). */
  expr(key: string[]): string;
  /** The decisions it sums, for reading its value from a plan (`x[Bob,`). */
  prefix(key: string[]): string;
}

export interface AppSpec {
  app: AppName;
  /** What the app is about, one line, for prompts and help. */
  about: string;
  entities: Map<string, EntityType>;
  params: Map<string, ParamSpec>;
  decisions: Map<string, DecisionSpec>;
  /** Sums over decisions that `limit` may bound (workforce1 `shifts` per worker). */
  totals: Map<string, TotalSpec>;
}

/** `New York` → `new_york`. */
export function surfaceName(name: string | number): string {
  return String(name).trim().toLowerCase().replace(/\s+/g, "_");
}

function entity(
  name: string,
  appNames: (string | number)[],
  prefix = "",
  groups?: Map<string, string[]>,
): EntityType {
  return {
    name,
    members: new Map(appNames.map((n) => [prefix + surfaceName(n), String(n)])),
    groups,
  };
}

const dictRef = (field: string, key: string[], data: AppData): DataPath[] => {
  const k = key.join(",");
  const dict = data[field] as Record<string, Json>;
  return k in dict ? [[field, k]] : [];
};

function byName<T extends { name: string }>(items: T[]): Map<string, T> {
  return new Map(items.map((x) => [x.name, x]));
}

function coffee(data: AppData): AppSpec {
  const dict =
    (field: string): ParamSpec["refs"] =>
    (key) =>
      dictRef(field, key, data);
  return {
    app: "coffee",
    about:
      "coffee supply chain: suppliers ship beans to roasteries, roasteries roast light and dark coffee for cafes",
    entities: byName([
      entity("supplier", data.suppliers as string[]),
      entity("roastery", data.roasteries as string[]),
      entity("cafe", data.cafes as string[]),
    ]),
    params: byName<ParamSpec>([
      {
        name: "capacity",
        doc: "beans a supplier can ship",
        keys: ["supplier"],
        refs: dict("capacity_in_supplier"),
      },
      {
        name: "ship_cost",
        doc: "cost per unit shipped from a supplier to a roastery",
        keys: ["supplier", "roastery"],
        refs: dict("shipping_cost_from_supplier_to_roastery"),
      },
      {
        name: "deliver_cost",
        doc: "cost per unit shipped from a roastery to a cafe",
        keys: ["roastery", "cafe"],
        refs: dict("shipping_cost_from_roastery_to_cafe"),
      },
      {
        name: "light_roast_cost",
        doc: "cost of roasting one unit of light coffee at a roastery",
        keys: ["roastery"],
        refs: dict("roasting_cost_light"),
      },
      {
        name: "dark_roast_cost",
        doc: "cost of roasting one unit of dark coffee at a roastery",
        keys: ["roastery"],
        refs: dict("roasting_cost_dark"),
      },
      {
        name: "light_demand",
        doc: "light coffee a cafe needs",
        keys: ["cafe"],
        refs: dict("light_coffee_needed_for_cafe"),
      },
      {
        name: "dark_demand",
        doc: "dark coffee a cafe needs",
        keys: ["cafe"],
        refs: dict("dark_coffee_needed_for_cafe"),
      },
      {
        name: "demand",
        doc: "coffee a cafe needs (light and dark alike)",
        keys: ["cafe"],
        refs: (key) => [
          ...dictRef("light_coffee_needed_for_cafe", key, data),
          ...dictRef("dark_coffee_needed_for_cafe", key, data),
        ],
      },
    ]),
    decisions: byName<DecisionSpec>([
      {
        name: "ship",
        doc: "beans shipped from a supplier to a roastery",
        keys: ["supplier", "roastery"],
        vars: ([s, r]) => [`x[${s},${r}]`],
        binary: false,
      },
      {
        name: "light",
        doc: "light coffee a roastery sends to a cafe",
        keys: ["roastery", "cafe"],
        vars: ([r, c]) => [`y_light[${r},${c}]`],
        binary: false,
      },
      {
        name: "dark",
        doc: "dark coffee a roastery sends to a cafe",
        keys: ["roastery", "cafe"],
        vars: ([r, c]) => [`y_dark[${r},${c}]`],
        binary: false,
      },
      {
        name: "deliver",
        doc: "coffee (light and dark) a roastery sends to a cafe",
        keys: ["roastery", "cafe"],
        vars: ([r, c]) => [`y_light[${r},${c}]`, `y_dark[${r},${c}]`],
        binary: false,
      },
    ]),
    totals: new Map(),
  };
}

function diet(data: AppData): AppSpec {
  const dict =
    (field: string): ParamSpec["refs"] =>
    (key) =>
      dictRef(field, key, data);
  return {
    app: "diet",
    about:
      "diet: how many servings of each food to buy so that nutrition stays within limits at least cost",
    entities: byName([
      entity("food", data.foods as string[]),
      entity("nutrient", data.categories as string[]),
    ]),
    params: byName<ParamSpec>([
      { name: "cost", doc: "price of one serving of a food", keys: ["food"], refs: dict("cost") },
      {
        name: "min_nutrition",
        doc: "least amount of a nutrient per day",
        keys: ["nutrient"],
        refs: dict("minNutrition"),
      },
      {
        name: "max_nutrition",
        doc: "most amount of a nutrient per day",
        keys: ["nutrient"],
        refs: dict("maxNutrition"),
      },
      {
        name: "nutrition",
        doc: "amount of a nutrient in one serving of a food",
        keys: ["food", "nutrient"],
        refs: dict("nutritionValues"),
      },
    ]),
    decisions: byName<DecisionSpec>([
      {
        name: "buy",
        doc: "servings of a food bought",
        keys: ["food"],
        vars: ([f]) => [`buy[${f}]`],
        binary: false,
      },
    ]),
    totals: new Map(),
  };
}

function facility(data: AppData): AppSpec {
  const plants = (data.capacity as number[]).map((_, i) => i);
  const warehouses = (data.demand as number[]).map((_, i) => i);
  const list =
    (field: string): ParamSpec["refs"] =>
    ([i]) => [[field, Number(i)]];
  return {
    app: "facility",
    about:
      "facility location: which plants to open and how much each plant ships to each warehouse",
    entities: byName([
      entity("plant", plants, "plant"),
      entity("warehouse", warehouses, "warehouse"),
    ]),
    params: byName<ParamSpec>([
      { name: "demand", doc: "demand of a warehouse", keys: ["warehouse"], refs: list("demand") },
      { name: "capacity", doc: "capacity of a plant", keys: ["plant"], refs: list("capacity") },
      {
        name: "fixed_cost",
        doc: "cost of opening a plant",
        keys: ["plant"],
        refs: list("fixedCosts"),
      },
      {
        name: "trans_cost",
        doc: "cost per unit shipped from a plant to a warehouse",
        keys: ["plant", "warehouse"],
        refs: ([p, w]) => [["transCosts", Number(w), Number(p)]],
      },
    ]),
    decisions: byName<DecisionSpec>([
      {
        name: "open",
        doc: "whether a plant is open (1) or closed (0)",
        keys: ["plant"],
        vars: ([p]) => [`open[${p}]`],
        binary: true,
      },
      {
        name: "transport",
        doc: "units shipped from a plant to a warehouse",
        keys: ["plant", "warehouse"],
        vars: ([p, w]) => [`transport[${w},${p}]`],
        binary: false,
      },
    ]),
    totals: new Map(),
  };
}

function netflow(data: AppData): AppSpec {
  const dict =
    (field: string): ParamSpec["refs"] =>
    (key) =>
      dictRef(field, key, data);
  const arcs = new Set((data.arcs as string[][]).map((a) => a.join(",")));
  const notArc = ([, i, j]: string[]) =>
    arcs.has(`${i},${j}`)
      ? undefined
      : `${i} → ${j} is not an arc of the network, so the model never uses this cost`;
  return {
    app: "netflow",
    about:
      "multi-commodity network flow: ship pencils and pens from Detroit and Denver to Boston, New York and Seattle at least cost",
    entities: byName([
      entity("commodity", data.commodities as string[]),
      entity("city", data.nodes as string[]),
    ]),
    params: byName<ParamSpec>([
      {
        name: "cost",
        doc: "cost per unit of a commodity shipped from one city to another",
        keys: ["commodity", "city", "city"],
        refs: dict("cost"),
        newRef: (key) => ["cost", key.join(",")],
        unused: notArc,
      },
      {
        name: "capacity",
        doc: "capacity of the arc from one city to another (both commodities together)",
        keys: ["city", "city"],
        refs: dict("capacity"),
      },
      {
        name: "inflow",
        doc: "supply (> 0) or demand (< 0) of a commodity at a city",
        keys: ["commodity", "city"],
        refs: dict("inflow"),
      },
    ]),
    decisions: byName<DecisionSpec>([
      {
        name: "flow",
        doc: "units of a commodity shipped from one city to another",
        keys: ["commodity", "city", "city"],
        vars: ([h, i, j]) => [`flow[${h},${i},${j}]`],
        binary: false,
      },
    ]),
    totals: new Map(),
  };
}

function tsp(data: AppData): AppSpec {
  const n = (data.points as Json[]).length;
  const points = Array.from({ length: n }, (_, i) => i);
  return {
    app: "tsp",
    about: "travelling salesman: the shortest tour through 10 points",
    entities: byName([entity("point", points, "point")]),
    params: byName<ParamSpec>([
      {
        name: "dist",
        doc: "distance between two points (one value per pair)",
        keys: ["point", "point"],
        refs: ([i, j]) => {
          const dist = data.dist as Record<string, Json>;
          if (`${i},${j}` in dist) return [["dist", `${i},${j}`]];
          if (`${j},${i}` in dist) return [["dist", `${j},${i}`]];
          return [];
        },
      },
    ]),
    decisions: byName<DecisionSpec>([
      {
        name: "edge",
        doc: "whether the tour goes directly between two points",
        keys: ["point", "point"],
        vars: ([i, j]) => [Number(i) > Number(j) ? `vars[${i},${j}]` : `vars[${j},${i}]`],
        binary: true,
      },
    ]),
    totals: new Map(),
  };
}

const WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

function workforce1(data: AppData): AppSpec {
  const shifts = data.shifts as string[];
  const groups = new Map<string, string[]>();
  for (const day of WEEKDAYS) {
    const abbr = day.slice(0, 3);
    const members = shifts.filter((s) => s.toLowerCase().startsWith(abbr)).map(surfaceName);
    if (members.length > 0) groups.set(day, members);
  }
  const weekend = [...(groups.get("saturday") ?? []), ...(groups.get("sunday") ?? [])];
  if (weekend.length > 0) groups.set("weekend", weekend);
  const work: DecisionSpec = {
    name: "work",
    doc: "whether a worker works a shift",
    keys: ["worker", "shift"],
    vars: ([w, s]) => [`x[${w},${s}]`],
    binary: true,
  };
  return {
    app: "workforce1",
    about: "shift scheduling: assign seven workers to 14 shifts over two weeks at least pay",
    entities: byName([
      entity("worker", data.workers as string[]),
      entity("shift", shifts, "", groups),
    ]),
    params: byName<ParamSpec>([
      {
        name: "pay",
        doc: "pay of a worker per shift",
        keys: ["worker"],
        refs: (key) => dictRef("pay", key, data),
      },
      {
        name: "requirement",
        doc: "number of workers a shift needs",
        keys: ["shift"],
        refs: (key) => dictRef("shiftRequirements", key, data),
      },
    ]),
    decisions: byName([work]),
    totals: byName<TotalSpec>([
      {
        name: "shifts",
        doc: "number of shifts a worker works",
        keys: ["worker"],
        expr: ([w]) => `sum(x[${w},*])`,
        prefix: ([w]) => `x[${w},`,
      },
    ]),
  };
}

const BUILDERS: Record<AppName, (data: AppData) => AppSpec> = {
  coffee,
  diet,
  facility,
  netflow,
  tsp,
  workforce1,
};

/** The action-language spec of an app, built from its (unedited) data. */
export function appSpec(app: AppName, data: AppData): AppSpec {
  return BUILDERS[app](data);
}
