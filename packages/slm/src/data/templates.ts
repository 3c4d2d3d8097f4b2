/**
 * Question templates, written for Athanor from each app's semantics (its data fields, decisions
 * and constraints; see `data/apps/<app>.md` in @athanor/optiguide). None comes from the OptiGuide
 * benchmark, whose licence forbids training on it.
 *
 * Syntax: `[a|b|]` picks one alternative (empty allowed), `{slot}` is filled by the generator.
 * Slots: entity types of the app (`{cafe}`, `{point}`, two of a kind as `{city}`/`{city2}`),
 * `{pct}` (a percentage), `{n}` (a small count), `{amt}` (an amount), `{cost}` (a price).
 * A template's text is a full question (`q`), a clause framed as a what-if (`c`: "the demand
 * of cafe1 rises by 5%"), or a noun phrase framed as a cause (`np`: "a 5% rise in ...").
 */

export interface Template {
  /** Question kind, for per-kind accuracy. */
  kind: string;
  q?: string[];
  c?: string[];
  np?: string[];
  /** The action line, with the same slots. */
  a: string;
  /** Draw this many times more examples (harder shapes, such as two actions in one line). */
  weight?: number;
}

const UP =
  "[increases|increased|goes up|went up|grows|grew|rises|rose|jumps|climbs|were to increase|were to rise|is raised|gets bigger]";
const DOWN =
  "[decreases|decreased|goes down|went down|drops|dropped|falls|fell|shrinks|declines|were to decrease|is reduced|is cut]";
const UPN = "[increase|rise|growth|jump|surge|boost|escalation|hike|uptick]";
const DOWNN = "[decrease|drop|decline|reduction|cut|fall|dip]";
const COST = "[cost|price|rate|charge|expense]";
const WHY_USED = [
  "why [do|does] [we|the plan|the solution|the model] [use|choose|pick|rely on|utilize|employ|go with] {X}?",
  "what [is|are] the [reason|reasons|rationale|purpose|motivation|logic] [for|behind] [using|choosing|utilizing|selecting|employing] {X}?",
  "can you [explain|justify|tell me] [why we use|the reason for using|the rationale behind using] {X}?",
  "what [factors|considerations] [lead to|go into|are behind] [using|choosing] {X}?",
  "why is {X} [used|chosen|selected|part of the plan|in the solution]?",
  "what is the reason [for|behind] [using|choosing] {X}?",
  "[explain|tell me] why {X} [is used|is in the plan|appears in the solution].",
  "why [would|should] [we|the plan] [use|go with] {X}?",
  "how come [we use|the plan uses] {X}?",
  "what [justifies|explains] [using|the use of] {X}?",
];
const WHY_NOT = [
  "why [don't|do not|doesn't|does not] [we|the plan|the solution] [use|choose|pick|select|utilize] {X}?",
  "what is the [reason|rationale|logic] [for|behind] not [using|choosing|selecting|utilizing] {X}?",
  "can you [explain|tell me] why {X} [is not|isn't] [used|chosen|selected]?",
  "why [isn't|is not] {X} [chosen|selected|used|picked]?",
  "why is {X} not [used|chosen|selected|part of the plan|in the solution]?",
  "why [not|avoid] {X}?",
  "what [if|happens if] [we|the plan] [must|had to|have to] use {X}?",
  "is it [bad|unwise|inadvisable|a bad idea] to [use|choose] {X}[, and why|]?",
  "why [is|was] {X} [avoided|left out|not considered|ruled out]?",
  "[what would it cost|what is the cost] to [force|require] {X}?",
];
const FORBID = [
  "what if [we|you] [omit|skip|drop|exclude|leave out] {X}?",
  "what if [we|the plan] [could not|cannot|can't|could no longer|were not allowed to|may not] [use|rely on] {X}?",
  "what if {X} [were|was|is] [not allowed|forbidden|banned|blocked|unavailable|no longer possible|removed]?",
  "[remove|block|forbid|ban|disallow|rule out|eliminate] {X}[. what happens| and re-solve|]?",
  "how [would|does] the [plan|cost|solution] change [without|if we drop|if we stop using] {X}?",
  "what [happens|would happen] if {X} [is|were] [taken away|closed|shut down|cut off]?",
];
const fill = (qs: string[], x: string) => qs.map((q) => q.replaceAll("{X}", x));

export const TEMPLATES: Record<string, Template[]> = {
  coffee: [
    {
      kind: "capacity",
      c: [`[the] capacity of {supplier} [is slashed|is lowered|gets cut|is trimmed] by {pct}%`],
      a: "set capacity {supplier} -{pct}%",
    },
    {
      kind: "demand",
      c: [
        `[the] demand [at|of|for|from] {cafe} ${UP} by {pct}%`,
        `{cafe} [needs|wants|orders|requires] {pct}% more coffee`,
        `{cafe}'s demand ${UP} [by|] {pct}%`,
      ],
      np: [
        `a {pct}% ${UPN} in [the] demand [at|of|for|from] {cafe}`,
        `{pct}% more demand [at|from] {cafe}`,
      ],
      a: "set demand {cafe} +{pct}%",
    },
    {
      kind: "demand",
      c: [
        `[the] demand [at|of|for|from] {cafe} ${DOWN} by {pct}%`,
        `{cafe} [needs|orders] {pct}% less coffee`,
      ],
      np: [`a {pct}% ${DOWNN} in [the] demand [at|of|for|from] {cafe}`],
      a: "set demand {cafe} -{pct}%",
    },
    {
      kind: "demand-roast",
      c: [
        `[the] demand [for|of] {roast} coffee [at|of|from|in] {cafe} ${UP} by {pct}%`,
        `{cafe} [needs|wants|orders] {pct}% more {roast} [coffee|roast]`,
        `{cafe}'s {roast} [coffee|roast] demand ${UP} [by|] {pct}%`,
      ],
      np: [
        `a {pct}% ${UPN} in [the] demand for {roast} coffee [at|from|in] {cafe}`,
        `a {pct}% ${UPN} in {roast} [coffee|roast] demand [at|from|for] {cafe}`,
      ],
      q: [`how would a {pct}% ${UPN} in [the] demand for {roast} coffee affect {cafe}?`],
      a: "set {roast}_demand {cafe} +{pct}%",
    },
    {
      kind: "demand-roast",
      c: [`[the] demand for {roast} coffee [at|of|from] {cafe} ${DOWN} by {pct}%`],
      np: [`a {pct}% ${DOWNN} in {roast} coffee demand [at|from|for] {cafe}`],
      a: "set {roast}_demand {cafe} -{pct}%",
    },
    {
      kind: "demand-roast",
      c: [
        `{cafe} [needs|requires|orders] {amt} units of {roast} coffee`,
        `the {roast} coffee demand of {cafe} [is|becomes|were] {amt}`,
      ],
      a: "set {roast}_demand {cafe} ={amt}",
    },
    {
      kind: "capacity",
      c: [
        `{supplier} [can only|could only|is only able to] [supply|provide|deliver|meet] half [of|] [its|the] [capacity|usual amount|demand]`,
        `[the] capacity of {supplier} [is|were|gets] [halved|cut in half]`,
        `{supplier}'s capacity [is|were] halved`,
        `{supplier} [loses|lost] half [of|] its capacity`,
      ],
      np: [`halving {supplier}'s capacity`, `a 50% cut in {supplier}'s capacity`],
      a: "set capacity {supplier} *0.5",
    },
    {
      kind: "capacity",
      c: [
        `[the] capacity of {supplier} ${DOWN} by {pct}%`,
        `{supplier} [can supply|has] {pct}% less [beans|capacity]`,
      ],
      np: [`a {pct}% ${DOWNN} in {supplier}'s capacity`],
      a: "set capacity {supplier} -{pct}%",
    },
    {
      kind: "capacity",
      c: [`[the] capacity of {supplier} ${UP} by {pct}%`],
      np: [`a {pct}% ${UPN} in {supplier}'s capacity`],
      a: "set capacity {supplier} +{pct}%",
    },
    {
      kind: "capacity",
      c: [
        `{supplier} [can supply|can ship|has a capacity of|can provide] [only|] {amt} [units|]`,
        `the capacity of {supplier} [is|were|becomes] {amt}`,
      ],
      a: "set capacity {supplier} ={amt}",
    },
    {
      kind: "shipping-cost",
      c: [
        `the [shipping|transport|unit|per-unit] ${COST} from {supplier} to {roastery} [is|were|becomes|changes to|increases to|rises to|drops to] {cost}`,
        `shipping from {supplier} to {roastery} [costs|cost] {cost} [per unit|a unit|]`,
        `it [costs|cost] {cost} to ship [beans|coffee beans|] from {supplier} to {roastery}`,
      ],
      q: [
        `[when|if] the [per-unit|unit|shipping] ${COST} [between|from] {supplier} [and|to] {roastery} [changes|rises|goes|drops] to {cost}, [what happens|how does the cost change|how is the total cost affected]?`,
      ],
      a: "set ship_cost {supplier} {roastery} ={cost}",
    },
    {
      kind: "shipping-cost",
      c: [`the [shipping|transport] ${COST} from {supplier} to {roastery} ${UP} by {cost}`],
      a: "set ship_cost {supplier} {roastery} +{cost}",
    },
    {
      kind: "shipping-cost",
      c: [`the [shipping|delivery] ${COST} from {roastery} to {cafe} [is|were|becomes] {cost}`],
      a: "set deliver_cost {roastery} {cafe} ={cost}",
    },
    {
      kind: "roasting-cost",
      c: [
        `[the] {roast} roasting ${COST} at {roastery} [is|were|becomes] {cost}`,
        `roasting {roast} coffee at {roastery} [costs|cost] {cost}`,
      ],
      a: "set {roast}_roast_cost {roastery} ={cost}",
    },
    {
      kind: "roasting-cost",
      c: [`[the] {roast} roasting ${COST} at {roastery} ${UP} by {pct}%`],
      a: "set {roast}_roast_cost {roastery} +{pct}%",
    },
    {
      kind: "why",
      q: fill(WHY_USED, "{supplier} [for|to supply|to ship to|at] {roastery}"),
      a: "why ship {supplier} {roastery}",
    },
    {
      kind: "why",
      q: fill(WHY_USED, "{roastery} to [supply|serve|deliver to] {cafe}"),
      a: "why deliver {roastery} {cafe}",
    },
    {
      kind: "why-not",
      q: fill(WHY_NOT, "{supplier} [for|to supply|to ship to] {roastery}"),
      a: "whynot ship {supplier} {roastery}",
    },
    {
      kind: "forbid",
      q: fill(
        FORBID,
        "[shipping from {supplier} to {roastery}|the route from {supplier} to {roastery}|{supplier} for {roastery}]",
      ),
      a: "forbid ship {supplier} {roastery}",
    },
    {
      kind: "exclusive",
      q: [
        "what if {roastery} [only|exclusively] [serves|supplies|sells to] {cafe} and {cafe} [only|exclusively] [buys|gets coffee] from {roastery}?",
        "how would an exclusive [deal|partnership|arrangement|contract] between {roastery} and {cafe} [affect|change] [the plan|costs|the outcome]?",
        "what if {cafe} and {roastery} [work|deal] [only|exclusively] with each other?",
        "[suppose|assume] {roastery} and {cafe} [are|become] exclusive partners. [what happens|what is the impact]?",
        "what is the [effect|impact] of [making|having] {roastery} and {cafe} [exclusive|mutually exclusive partners]?",
        "what if {cafe} [can|could] [only|exclusively] buy from {roastery} and {roastery} [can|could] only sell to {cafe}?",
        "how does {cafe} [buying|purchasing|sourcing] [only|exclusively|solely] from {roastery}, with {roastery} [selling|supplying] [only|exclusively|solely] to {cafe}, [change|affect] [things|the plan|costs]?",
      ],
      np: [
        "{cafe} [buying|purchasing|sourcing] [only|exclusively|solely] from {roastery} and {roastery} [selling|supplying|delivering] [only|exclusively|solely] to {cafe}",
        "[an|the] exclusive [relationship|link|arrangement] between {cafe} and {roastery} [in both directions|on both sides|]",
        "[the|] exclusivity of {cafe} and {roastery}",
      ],
      a: "exclusive deliver {roastery} {cafe}",
    },
    {
      kind: "only",
      q: [
        "what if {roastery} [can|could] [only|exclusively] [serve|supply|deliver to|be used by] {cafe}?",
        "what if {roastery} [is|were] [reserved|dedicated|restricted] [for|to] {cafe} [only|alone|]?",
        "what happens if only {cafe} [can|may] [use|buy from] {roastery}?",
        "[suppose|assume] {roastery} [serves|supplies] no [cafe|one] but {cafe}. [what happens|how does the cost change]?",
        "what if {roastery} [is|were] [limited|restricted|confined] to [serving|supplying] {cafe} [only|alone]?",
      ],
      np: [
        "{roastery} [serving|supplying] only {cafe}",
        "restricting {roastery} to {cafe} [alone|only]",
      ],
      a: "only deliver {roastery} {cafe}",
    },
    {
      kind: "limit",
      c: [
        `[we|the plan] [must|has to|need to] ship at least {amt} [units|] from {supplier} to {roastery}`,
      ],
      a: "limit ship {supplier} {roastery} >={amt}",
    },
    {
      kind: "limit",
      c: [
        `[we|the plan] [can|may] ship at most {amt} [units|] from {supplier} to {roastery}`,
        `shipments from {supplier} to {roastery} [are|were] capped at {amt}`,
      ],
      a: "limit ship {supplier} {roastery} <={amt}",
    },
    {
      kind: "query",
      q: [
        "how [much|many units] [does|will] {supplier} ship to {roastery}?",
        "what [amount|quantity] [is shipped|goes] from {supplier} to {roastery}?",
        "how much [coffee|beans] [flows|goes|moves] from {supplier} to {roastery} [in the plan|now|]?",
      ],
      a: "show ship {supplier} {roastery}",
    },
    {
      kind: "query",
      q: [
        "how much {roast} coffee does {roastery} [send|ship|deliver] to {cafe}?",
        "what amount of {roast} [coffee|roast] goes from {roastery} to {cafe}?",
      ],
      a: "show {roast} {roastery} {cafe}",
    },
    {
      kind: "query",
      q: ["what is the capacity of {supplier}?", "how much can {supplier} [supply|ship]?"],
      a: "show capacity {supplier}",
    },
    {
      kind: "query",
      q: [
        "how much {roast} coffee does {cafe} need?",
        "what is the {roast} [coffee|roast] demand [of|at] {cafe}?",
      ],
      a: "show {roast}_demand {cafe}",
    },
    {
      kind: "query",
      q: [
        "what [does it|is the shipping cost to] [cost|] [to ship|] from {supplier} to {roastery}?",
        "what is the [unit|shipping] cost from {supplier} to {roastery}?",
      ],
      a: "show ship_cost {supplier} {roastery}",
    },
  ],

  diet: [
    {
      kind: "forbid",
      q: [
        "what if I [don't|do not|can't|cannot|won't] [eat|have|buy|like] {food}?",
        "what if I [hate|dislike|am allergic to|have an aversion to|want to avoid|refuse] {food}?",
        "[is there|can I get] a [diet|plan|menu] without {food}?",
        "[remove|drop|exclude|cut out|skip|leave out] {food}[ from the diet| from my menu|]. [what happens|what changes|]?",
        "what if {food} [is|were|was] [not available|unavailable|off the menu|sold out]?",
        "can I [avoid|skip|do without|go without] {food}?",
        "is it possible [to not have|to skip|to avoid|to stay away from] {food}?",
        "what if {food} [doesn't|does not|don't|do not] appeal to me?",
        "what if I['m| am] not a fan of {food}?",
        "what if {food} [isn't|is not|aren't|are not] [my preference|to my taste|something I like]?",
        "how [do|can|would] I [manage|cope|do] without {food}?",
      ],
      a: "forbid buy {food}",
    },
    {
      kind: "fix",
      q: [
        "what if I [eat|have|buy|get|want] [exactly|precisely|] {n} [servings of|portions of|units of|] {food}?",
        "what [happens|would happen] if I [had|have|ate|bought] {n} {food}?",
        "[suppose|assume] I [must|have to|want to] [eat|buy|have] {n} [servings of|] {food}. [what changes|what happens]?",
        "can my diet include exactly {n} [servings of|] {food}?",
        "imagine [having|eating|buying|getting] {n} [servings of|portions of|] {food}[, what then|. what happens|. what changes|]?",
        "what [if|happens if] [my|the] [diet|menu|plan] [has|includes|contains] {n} {food}?",
      ],
      a: "fix buy {food} ={n}",
    },
    {
      kind: "fix",
      q: [
        "what if I [eat|have|buy|want|get] {n} more [servings of|portions of|units of|] {food} [than now|than the plan says|]?",
        "can I [have|get|request|add] {n} [more|extra|additional] [servings of|units of|] {food}?",
        "what if [we|I] [add|increase] {food} by {n} [servings|units|]?",
        "[are|is] {n} [extra|more|additional] {food} [servings|units|portions|] [available|possible|allowed] [for me|]?",
        "[could|may] I [get|have] {n} {food} [more|extra] [than planned|than now|]?",
      ],
      a: "fix buy {food} +{n}",
    },
    {
      kind: "fix",
      q: [
        "what if I [eat|have|buy] {n} fewer [servings of|units of|] {food}?",
        "can I [cut|reduce] {food} by {n} [servings|units|]?",
      ],
      a: "fix buy {food} -{n}",
    },
    {
      kind: "limit",
      q: [
        "what if I [eat|have|buy] at most {n} [servings of|] {food}?",
        "what if {food} [is|were] limited to {n} [servings|units]?",
      ],
      a: "limit buy {food} <={n}",
    },
    {
      kind: "limit",
      q: [
        "what if I [eat|have|buy] at least {n} [servings of|] {food}?",
        "what if I [need|want] {n} or more [servings of|] {food}?",
      ],
      a: "limit buy {food} >={n}",
    },
    {
      kind: "cost",
      c: [
        `[the] ${COST} of {food} [is|were|becomes|changes to] {cost}`,
        `{food} [costs|cost] {cost} [per serving|each|]`,
      ],
      a: "set cost {food} ={cost}",
    },
    {
      kind: "cost",
      c: [`[the] ${COST} of {food} ${UP} by {pct}%`],
      np: [`a {pct}% ${UPN} in the price of {food}`],
      a: "set cost {food} +{pct}%",
    },
    {
      kind: "cost",
      c: [`[the] ${COST} of {food} ${DOWN} by {pct}%`],
      a: "set cost {food} -{pct}%",
    },
    {
      kind: "nutrition",
      c: [
        `the [maximum|upper limit|limit|most] [of|on|for] {nutrient} [is|were|becomes] {amt}`,
        `[I|we] [can have|allow] at most {amt} {nutrient}`,
      ],
      a: "set max_nutrition {nutrient} ={amt}",
    },
    {
      kind: "nutrition",
      c: [
        `the [minimum|lower limit|least amount] [of|on|for] {nutrient} [is|were|becomes] {amt}`,
        `[I|we] need at least {amt} {nutrient}`,
      ],
      a: "set min_nutrition {nutrient} ={amt}",
    },
    { kind: "why", q: fill(WHY_USED, "{food}"), a: "why buy {food}" },
    { kind: "why-not", q: fill(WHY_NOT, "{food}"), a: "whynot buy {food}" },
    {
      kind: "query",
      q: [
        "how [much|many servings of] {food} [do I|should I|does the plan] [buy|eat|get]?",
        "what amount of {food} is in the [plan|diet]?",
      ],
      a: "show buy {food}",
    },
    {
      kind: "query",
      q: ["how much does {food} cost?", "what is the price of {food}?"],
      a: "show cost {food}",
    },
    {
      kind: "query",
      q: ["how much {nutrient} is in {food}?", "what is the {nutrient} content of {food}?"],
      a: "show nutrition {food} {nutrient}",
    },
    {
      kind: "query",
      q: [
        "what does the diet cost [in total|]?",
        "what is the [total|current] cost [of the plan|]?",
      ],
      a: "show objective",
    },
  ],

  facility: [
    {
      kind: "open-close",
      c: [
        `[we|you] [cease|stop|terminate|end|discontinue] [operations|production] at {plant}`,
        `{plant} [ceases|stops|ends] [operations|operating|production]`,
        `[we|you] [stop operating|decommission] {plant}`,
      ],
      np: [
        `[ceasing|stopping|terminating|ending|halting] [operations|production] at {plant}`,
        `[terminating|ending|halting|ceasing] {plant}'s operations`,
        `the closure of {plant}`,
      ],
      a: "fix open {plant} =0",
    },
    {
      kind: "open-close",
      q: [
        ...fill(WHY_USED, "[opening|] {plant}"),
        "why [do|did|would] [we|you] open {plant}?",
        "[for what purpose|to what end|what for] [do|did] we open {plant}?",
        "what is the [purpose|point|rationale] of opening {plant}?",
        "[could|can] you [provide|give|share] the [reasoning|rationale|justification] for [the launch of|opening|the opening of|launching] {plant}?",
        "what [factors|considerations] [contribute to|lead to|drive] the decision [of|to] [open|opening] {plant}?",
        "what [objectives|goals|benefits] [are achieved|are met|do we get] by opening {plant}?",
        "why do we [proceed with|go ahead with|go with] [the establishment of|establishing|opening] {plant}?",
      ],
      a: "why open {plant}",
      weight: 1.5,
    },
    {
      kind: "open-close",
      q: [
        ...fill(WHY_NOT, "[opening|] {plant}"),
        "why [don't|do not|didn't] [we|you] open {plant}?",
        "why is {plant} [closed|kept closed|not opened]?",
        "what [prevents|stops|keeps] us from opening {plant}?",
      ],
      a: "whynot open {plant}",
    },
    {
      kind: "transport",
      q: [
        ...fill(
          WHY_USED,
          "[the route|shipping|the link|the edge|the connection|the path] [between|linking|that links|connecting] {plant} [and|with|to] {warehouse}",
        ),
      ],
      a: "why transport {plant} {warehouse}",
    },
    {
      kind: "transport",
      q: [
        ...fill(
          WHY_NOT,
          "[the route|the link|the edge|the connection|the path] [between|linking|that links|connecting] {plant} [and|with|to] {warehouse}",
        ),
        "what [prevents|stops|keeps] [us|the plan] from [selecting|choosing|picking|using] the [edge|path|link|connection|route] [from|between|linking|that links|connecting] {plant} [to|and|with] {warehouse}?",
        "what prevents the [selection|choice|use] of the [edge|path|link|connection|route] [from|between|linking|that links|connecting] {plant} [to|and|with] {warehouse}?",
        "what [factors|considerations] [contribute to|lead to] not [picking|choosing|selecting|using] the [edge|link|connection] [between|linking|that links|from] {plant} [and|to|with] {warehouse}?",
        "why [shouldn't|should not|wouldn't] we [opt for|choose|pick|use] the [connection|edge|link|route] [between|from] {plant} [and|to] {warehouse}?",
        "why should the [edge|link|connection|route] [connecting|between|from] {plant} [and|to] {warehouse} be [disregarded|ignored|left out|skipped]?",
      ],
      a: "whynot transport {plant} {warehouse}",
      weight: 1.5,
    },
    {
      kind: "fixed-cost",
      c: [
        `[the] [opening|fixed|setup] ${COST} of {plant} [is slashed|is lowered|gets cut|is trimmed|is slashed] by {pct}%`,
      ],
      np: [
        `halving [the|] [opening|fixed|setup] cost of {plant}`,
        `halving {plant}'s [opening|fixed] cost`,
      ],
      a: "set fixed_cost {plant} -{pct}%",
    },
    {
      kind: "open-close",
      c: [
        `[we|you] [close|shut down|shut|decommission] {plant}`,
        `{plant} [is|were|was|gets] [closed|shut down|out of service|unavailable]`,
        `{plant} [cannot|can't|could not] be [opened|used]`,
      ],
      np: [`closing {plant}`, `shutting down {plant}`],
      a: "fix open {plant} =0",
    },
    {
      kind: "open-close",
      c: [
        `[we|you] [must|have to|had to|] [open|keep open|reopen] {plant}`,
        `{plant} [is|were|must be|has to be] [open|opened|kept open]`,
      ],
      np: [`opening {plant}`, `keeping {plant} open`],
      a: "fix open {plant} =1",
    },
    {
      kind: "transport",
      q: fill(
        WHY_USED,
        "[the route|shipping|the link|the edge|transport] from {plant} to {warehouse}",
      ),
      a: "why transport {plant} {warehouse}",
    },
    {
      kind: "transport",
      q: fill(
        WHY_NOT,
        "[the route|shipping|the link|the edge|transport] from {plant} to {warehouse}",
      ),
      a: "whynot transport {plant} {warehouse}",
    },
    {
      kind: "transport",
      q: fill(FORBID, "[shipping|the route|transport] from {plant} to {warehouse}"),
      a: "forbid transport {plant} {warehouse}",
    },
    {
      kind: "fixed-cost",
      c: [
        `[the] [opening|fixed|setup] ${COST} of {plant} ${DOWN} by {pct}%`,
        `{plant}'s [opening|fixed] cost ${DOWN} by {pct}%`,
      ],
      np: [
        `a {pct}% ${DOWNN} in {plant}'s [opening|fixed] cost`,
        `[cutting|reducing|lowering] the [opening|fixed] cost of {plant} by {pct}%`,
      ],
      a: "set fixed_cost {plant} -{pct}%",
    },
    {
      kind: "fixed-cost",
      c: [`[the] [opening|fixed|setup] ${COST} of {plant} ${UP} by {pct}%`],
      np: [`a {pct}% ${UPN} in {plant}'s [opening|fixed] cost`],
      a: "set fixed_cost {plant} +{pct}%",
    },
    {
      kind: "fixed-cost",
      c: [
        `[the] [opening|fixed|setup] ${COST} of {plant} [is|were] [halved|cut in half]`,
        `{plant} [is|were] half as expensive to open`,
      ],
      a: "set fixed_cost {plant} *0.5",
    },
    {
      kind: "fixed-cost",
      c: [
        `[the] [opening|fixed|setup] ${COST} of {plant} [is|were|becomes] {amt}`,
        `opening {plant} [costs|cost] {amt}`,
      ],
      a: "set fixed_cost {plant} ={amt}",
    },
    {
      kind: "demand",
      c: [
        `[the] demand [at|of] [every|each|all] [warehouse|warehouses|customer|customers] ${UP} by {n} [units|]`,
        `[all|every|each] [warehouse|warehouses] [needs|need] {n} more [units|]`,
        `demand ${UP} by {n} [units|] [everywhere|across the board|at every warehouse]`,
      ],
      np: [
        `a {n}-unit ${UPN} in demand [everywhere|at every warehouse|across all warehouses]`,
        `{n} more units of demand at [every|each] warehouse`,
      ],
      a: "set demand * +{n}",
    },
    {
      kind: "demand",
      c: [`[the] demand [at|of] [every|each|all] [warehouse|warehouses] ${DOWN} by {n} [units|]`],
      a: "set demand * -{n}",
    },
    {
      kind: "demand",
      c: [
        `[the] demand [at|of] {warehouse} ${UP} by {n} [units|]`,
        `{warehouse} [needs|needed] {n} more units`,
      ],
      a: "set demand {warehouse} +{n}",
    },
    {
      kind: "demand",
      c: [`[the] demand [at|of] {warehouse} [is|were|becomes] {amt}`],
      a: "set demand {warehouse} ={amt}",
    },
    {
      kind: "capacity",
      c: [
        `[the] capacity of {plant} ${UP} by {n} [units|]`,
        `{plant} [can produce|can ship] {n} more units`,
      ],
      a: "set capacity {plant} +{n}",
    },
    {
      kind: "capacity",
      c: [`[the] capacity of {plant} ${DOWN} by {n} [units|]`],
      a: "set capacity {plant} -{n}",
    },
    {
      kind: "transport-cost",
      c: [`[the] [transport|shipping|unit] ${COST} from {plant} to {warehouse} ${UP} by {amt}`],
      a: "set trans_cost {plant} {warehouse} +{amt}",
    },
    {
      kind: "transport-cost",
      c: [
        `[the] [transport|shipping|unit] ${COST} from {plant} to {warehouse} [is|were|becomes] {amt}`,
      ],
      a: "set trans_cost {plant} {warehouse} ={amt}",
    },
    {
      kind: "query",
      q: [
        "is {plant} open [in the plan|now|]?",
        "do we open {plant}?",
        "[is|was] {plant} [used|opened|selected]?",
      ],
      a: "show open {plant}",
    },
    {
      kind: "query",
      q: [
        "how much does {plant} ship to {warehouse}?",
        "what [quantity|amount] goes from {plant} to {warehouse}?",
      ],
      a: "show transport {plant} {warehouse}",
    },
    {
      kind: "query",
      q: ["what is the demand of {warehouse}?", "how much does {warehouse} need?"],
      a: "show demand {warehouse}",
    },
    {
      kind: "query",
      q: ["what does it cost to open {plant}?", "what is the fixed cost of {plant}?"],
      a: "show fixed_cost {plant}",
    },
    {
      kind: "query",
      q: ["what is the total cost [of the plan|]?", "how much does the [current|] plan cost?"],
      a: "show objective",
    },
  ],

  netflow: [
    {
      kind: "shipping-cost",
      c: [
        `[the] [shipping|transport|unit] ${COST} [to|into] {city} ${UP} by {cost}`,
        `shipping to {city} [costs|cost] {cost} more`,
        `[we|you] add {cost} to the ${COST} of [shipping|sending anything] to {city}`,
      ],
      np: [
        `an [extra|additional] {cost} on the [shipping|transport] ${COST} to {city}`,
        `a {cost} ${UPN} in [the] ${COST} of shipping to {city}`,
      ],
      a: "set cost * * {city} +{cost}",
    },
    {
      kind: "shipping-cost",
      c: [
        `[the] [shipping|transport] ${COST} from {city} ${UP} by {cost}`,
        `shipping [anything|goods|] from {city} [costs|cost] {cost} more`,
      ],
      np: [`an [extra|additional] {cost} on the [shipping|transport] ${COST} from {city}`],
      a: "set cost * {city} * +{cost}",
    },
    {
      kind: "shipping-cost",
      c: [
        `[the] [shipping|transport] ${COST} [from|out of] {city} [is|were|gets] [halved|cut in half|reduced by half]`,
        `[we|you] [halve|cut in half] the [shipping|] ${COST} [from|out of] {city}`,
      ],
      np: [`halving the shipping ${COST} from {city}`],
      a: "set cost * {city} * *0.5",
    },
    {
      kind: "shipping-cost",
      c: [
        `[the] [shipping|transport] ${COST} [to|into] {city} [is|were|gets] [halved|cut in half|reduced by half]`,
        `[we|you] [halve|cut in half] the [shipping|] ${COST} [to|into] {city}`,
      ],
      a: "set cost * * {city} *0.5",
    },
    {
      kind: "shipping-cost",
      c: [
        `[the] [shipping|transport] ${COST} [from|out of] {city} [doubles|is doubled|were doubled]`,
      ],
      a: "set cost * {city} * *2",
    },
    {
      kind: "shipping-cost",
      c: [`[the] [shipping|transport] ${COST} [to|into] {city} [doubles|is doubled|were doubled]`],
      a: "set cost * * {city} *2",
    },
    {
      kind: "shipping-cost",
      c: [`[the] ${COST} of shipping {commodity} [to|into] {city} ${UP} by {cost}`],
      a: "set cost {commodity} * {city} +{cost}",
    },
    {
      kind: "route-cost",
      c: [
        `[we|you] [could|can] [ship|send|transport|move] {commodity} from {city} to {city2} [at a cost of|for] {cost} [per unit|each|]`,
        `[shipping|sending] {commodity} from {city} to {city2} [costs|cost] {cost}`,
        `the ${COST} [of|for] [shipping|sending] {commodity} from {city} to {city2} [is|were|becomes|changes to] {cost}`,
      ],
      q: [
        `what if it were possible to [ship|send|move] {commodity} from {city} to {city2} [at|for] {cost} [a unit|per unit|]?`,
      ],
      a: "set cost {commodity} {city} {city2} ={cost}",
    },
    {
      kind: "capacity",
      c: [
        `[the] capacity [of the arc|of the link|] from {city} to {city2} [is|were|becomes] {amt}`,
      ],
      a: "set capacity {city} {city2} ={amt}",
    },
    {
      kind: "capacity",
      c: [`[the] capacity [of the arc|of the link|] from {city} to {city2} ${DOWN} by {pct}%`],
      a: "set capacity {city} {city2} -{pct}%",
    },
    {
      kind: "supply",
      c: [`[the] [supply|demand|inflow] of {commodity} at {city} [is|were|becomes] {amt}`],
      a: "set inflow {commodity} {city} ={amt}",
    },
    {
      kind: "why",
      q: fill(
        WHY_USED,
        "[shipping|sending|transporting|moving] {commodity} from {city} to {city2}",
      ),
      a: "why flow {commodity} {city} {city2}",
    },
    {
      kind: "why-not",
      q: fill(WHY_NOT, "[shipping|sending|transporting|moving] {commodity} from {city} to {city2}"),
      a: "whynot flow {commodity} {city} {city2}",
    },
    {
      kind: "why-not",
      q: [
        "is it [unwise|inadvisable|a bad idea|wrong] to [send|ship|move] {commodity} from {city} to {city2}[, and why|]?",
        "why [shouldn't|should not|wouldn't] [we|I] [send|ship|move] {commodity} from {city} to {city2}?",
        "what if [we|I] [had to|must|were to] [send|ship] [some|one unit of|] {commodity} from {city} to {city2}?",
      ],
      a: "whynot flow {commodity} {city} {city2}",
    },
    {
      kind: "forbid",
      q: fill(FORBID, "[shipping|sending] {commodity} from {city} to {city2}"),
      a: "forbid flow {commodity} {city} {city2}",
    },
    {
      kind: "query",
      q: [
        "how [much|many] {commodity} [go|goes|flow|flows|are shipped|is shipped] from {city} to {city2}?",
        "what is the flow of {commodity} from {city} to {city2}?",
      ],
      a: "show flow {commodity} {city} {city2}",
    },
    {
      kind: "query",
      q: ["what does it cost to ship {commodity} from {city} to {city2}?"],
      a: "show cost {commodity} {city} {city2}",
    },
    {
      kind: "query",
      q: ["what is the capacity from {city} to {city2}?"],
      a: "show capacity {city} {city2}",
    },
    {
      kind: "query",
      q: [
        "what is the total [shipping|] cost [of the plan|]?",
        "how much does the [current|] plan cost?",
      ],
      a: "show objective",
    },
  ],

  tsp: [
    {
      kind: "why",
      q: [
        ...fill(
          WHY_USED,
          "[transitioning|proceeding|heading|shifting] [from|between] {point} [to|and|towards] {point2}",
        ),
        "what is the [reason|driving force|motivation|rationale] [for|behind] [transitioning|moving|going|travelling|proceeding|heading] from {point} [to|towards] {point2}?",
        "why is it [essential|important|necessary|crucial] to [shift|move|go|travel|transition|proceed] [our focus|] from {point} to {point2}?",
        "what [benefits|advantages|gains] [can be gained|come|do we get] [by|from] [moving|going|travelling] from {point} to {point2}?",
      ],
      a: "why edge {point} {point2}",
    },
    {
      kind: "force",
      q: [
        "is it [possible|achievable|feasible|doable] to [go|move|travel|transition|get|navigate] [directly|] from {point} to {point2}?",
        "can [we|I|the salesman|the tour] [go|move|travel|navigate|make our way|successfully navigate] [directly|] from {point} to {point2}?",
        "is [navigating|moving|travelling|traveling|going] from {point} to {point2} [feasible|possible|an option|allowed|achievable]?",
        "can [traveling|travelling|moving|going] from {point} to {point2} be [achieved|done|managed]?",
        "are we able to [navigate|go|travel|move] from {point} to {point2}?",
      ],
      a: "fix edge {point} {point2} =1",
      weight: 1.5,
    },
    {
      kind: "forbid",
      q: [
        "what [is the result of|happens when|happens if we go about] [getting rid of|cutting|dropping] the [edge|road|link|connection] [between|that joins|joining|linking] {point} [and|to] {point2}?",
      ],
      a: "forbid edge {point} {point2}",
    },
    {
      kind: "distance",
      q: [
        "[how can we|what if we|can we] [increase|multiply|scale] the distance [from|between] {point} [to|and] {point2} by [a factor of 2|2 times|two times|2]?",
        "can the distance [from|between] {point} [to|and] {point2} be [increased|made] [twofold|two times as long|2 times longer]?",
        "[can we|what if we|how would it be if we] double the distance [from|between] {point} [to|and] {point2}?",
      ],
      a: "set dist {point} {point2} *2",
    },
    {
      kind: "distance",
      c: [
        `the distance [from|between] {point} [to|and] {point2} [increases|grows|goes up|is increased] by {pct}%`,
      ],
      q: ["how can we increase the distance [from|between] {point} [to|and] {point2} by {pct}%?"],
      a: "set dist {point} {point2} +{pct}%",
    },
    {
      kind: "remove-point",
      c: [
        `[we|you] [omit|eradicate|get rid of|take out|leave out] {point}`,
        `{point} [is|were|gets|was] [omitted|eradicated|taken out|left out|eliminated]`,
        `{point} [is|were] no longer [present|there|part of the tour|in the problem]`,
      ],
      np: [
        `[omitting|eradicating|getting rid of|taking out|leaving out|taking away] {point}`,
        `the [deletion|elimination|omission] of {point}`,
      ],
      a: "set dist {point} * =0",
      weight: 1.5,
    },
    {
      kind: "why",
      q: [
        ...fill(
          WHY_USED,
          "[the edge|the trip|the leg|going|travelling|traveling|moving] [from|between] {point} [to|and] {point2}",
        ),
        "why [is it|is it important|is it necessary|do we need] to [go|travel|proceed|move] from {point} to {point2}?",
        "why [does|should] the [tour|route|salesman] [go|travel|pass] from {point} to {point2}?",
        "what is the [significance|necessity|importance|purpose|point] of [going|moving|travelling|progressing|heading] from {point} [to|towards] {point2}?",
        "[can you|please] explain the [need|necessity|reason] [to|for] [go|move|travel|going|moving|travelling] from {point} to {point2}?",
      ],
      a: "why edge {point} {point2}",
    },
    {
      kind: "forbid",
      q: [
        ...fill(
          FORBID,
          "[the edge|the road|the connection|the link|the path|travel] [from|between] {point} [to|and] {point2}",
        ),
        "what if [we|the salesman|the tour] [cannot|can't|could not|may not|does not|doesn't] [go|travel|move] [directly|] from {point} to {point2}?",
        "what [is the result of|happens when] [removing|deleting|erasing|taking away|cutting] the [edge|boundary|road|link|connection] between {point} and {point2}?",
        "how does the [tour|route|scenario] change when the [edge|road|link] from {point} to {point2} is [removed|taken away|blocked|closed]?",
      ],
      a: "forbid edge {point} {point2}",
    },
    {
      kind: "force",
      q: [
        "is [going|moving|travelling|traveling] [directly|] from {point} to {point2} [feasible|possible|a good idea|worth it]?",
        "what if [we|the tour|the salesman] [must|had to|has to|were to] [go|travel|move] [directly|] from {point} to {point2}?",
        "what [if|happens if] [we|I] [try|tried] [going|to go] from {point} to {point2}?",
        "[force|require|include] the [edge|road|link] [from|between] {point} [to|and] {point2}[. what happens|]?",
        "is it possible to [go|move|travel|transition|get] [directly|] from {point} to {point2}?",
        "can [we|I|the salesman|the tour] [go|move|travel] [directly|] from {point} to {point2}?",
        "can a [trip|journey|move] from {point} to {point2} be [made|taken|undertaken]?",
        ...fill(WHY_NOT, "[the edge|going|travelling] [from|between] {point} [to|and] {point2}"),
      ],
      a: "fix edge {point} {point2} =1",
    },
    {
      kind: "distance",
      c: [
        `the distance [from|between] {point} [to|and] {point2} [doubles|were doubled|is doubled|is twice as long|became twice as long]`,
        `[we|you] double the distance [from|between] {point} [to|and] {point2}`,
        `{point} and {point2} [were|are] twice as far apart`,
      ],
      q: [
        "how can we make the [distance|trip] [from|between] {point} [to|and] {point2} twice as long?",
      ],
      np: [`doubling the distance [from|between] {point} [to|and] {point2}`],
      a: "set dist {point} {point2} *2",
    },
    {
      kind: "distance",
      c: [`the distance [from|between] {point} [to|and] {point2} [is|were|becomes] {amt}`],
      a: "set dist {point} {point2} ={amt}",
    },
    {
      kind: "distance",
      c: [
        `the distance [from|between] {point} [to|and] {point2} [is|were|gets] [halved|cut in half]`,
      ],
      a: "set dist {point} {point2} *0.5",
    },
    {
      kind: "remove-point",
      c: [
        `[we|you] [remove|drop|delete|take away|erase|eliminate] {point}`,
        `{point} [is|were|gets] [removed|dropped|deleted|taken away|erased|eliminated]`,
      ],
      np: [
        `[removing|dropping|deleting|taking away|erasing|eliminating] {point}`,
        `the removal of {point}`,
      ],
      a: "set dist {point} * =0",
    },
    {
      kind: "query",
      q: [
        "what is the distance [from|between] {point} [to|and] {point2}?",
        "how far is {point} from {point2}?",
      ],
      a: "show dist {point} {point2}",
    },
    {
      kind: "query",
      q: [
        "does the tour [go|pass] [directly|] from {point} to {point2}?",
        "is the edge [from|between] {point} [to|and] {point2} [used|in the tour]?",
      ],
      a: "show edge {point} {point2}",
    },
    {
      kind: "query",
      q: [
        "how long is the [tour|route] [now|]?",
        "what is the [total|] length of the [tour|route]?",
      ],
      a: "show objective",
    },
  ],

  workforce1: [
    {
      kind: "availability",
      q: [
        "is it [possible|an option] for {worker} to [remove|drop|skip] {shift} and [switch to working|work|focus] on {shift2} [instead|]?",
        "[is there an option|is it possible] for {worker} to take [a day off on|] {shift} off and [work|come in] [instead|] on {shift2}?",
        "can we arrange for {worker} to [be off|take off] on {shift} and [work|come to work] on {shift2} [in exchange|instead|]?",
        "is it an option for {worker} to not work on {shift} and work on {shift2} instead?",
        "is {worker} [able|capable of|allowed] [to take|taking] off {shift} and [work|working|putting in time] on {shift2}?",
        "[could|can] {worker} [transition|shift|change] from {shift} to {shift2} [for work|]?",
      ],
      a: "forbid work {worker} {shift} ; fix work {worker} {shift2} =1",
      weight: 2,
    },
    {
      kind: "availability",
      q: [
        "[can|could] {worker} work [on|] {shift2} and have {shift} off?",
        "is it an option for {worker} to work on {shift2} and [have|take] {shift} off?",
        "[can|could] {worker} [take|cover] {shift2} and [skip|drop] {shift}?",
      ],
      a: "forbid work {worker} {shift} ; fix work {worker} {shift2} =1",
      weight: 1.5,
    },
    {
      kind: "requirements",
      q: [
        "is it possible to have {n} more [people|workers|staff|team members] [on|for] {day}?",
        "[can|could] we [have|get|add] {n} [more|extra|additional] [people|workers|staff|team members] [on|for] {day}?",
        "how [can|should|do] I [manage|handle|approach|deal with] [needing|requiring] {n} [more|additional|extra] [people|workers|team members|staff|person|team member] [on|for] {day} [specifically|]?",
        "what[ is|'s] the best way to handle [needing|requiring] {n} [more|additional|extra] [person|people|workers|team members] on {day} [specifically|]?",
        "what [to do|should I do|do I do] if {n} [extra|more|additional] [person|people|workers] [is|are] needed on {day} [shifts|]?",
        "how can I [get|acquire|find|hire] {n} more [team members|workers|people|staff] [on|for] {day}?",
      ],
      a: "set requirement {day} +{n}",
      weight: 1.5,
    },
    {
      kind: "shift-limit",
      c: [
        `[all|every|each] [worker|workers|employee|employees] [need|needs|must|has to|have to|is required] [to|] [perform|complete|do|work|take] [at least|a minimum of] {n} [shift|shifts]`,
      ],
      a: "limit shifts * >={n}",
    },
    {
      kind: "availability",
      q: [
        "can {worker} [work|take] {shift2} instead of {shift}?",
        "[can|could] {worker}'s [schedule|shift] [be moved|be changed|be adjusted|be switched|change] from {shift} to {shift2}?",
        "what if {worker} [works|worked] {shift2} [instead of|rather than] {shift}?",
        "what if {worker} [swaps|switches|moves] [from|] {shift} [to|for] {shift2}?",
        "is it possible for {worker} to [move|switch] from {shift} to {shift2}?",
        "can {worker} [take|have] {shift} off and work [on|] {shift2} instead?",
        "[could|can] {worker} [transition|shift|change] from {shift} to {shift2}?",
      ],
      a: "forbid work {worker} {shift} ; fix work {worker} {shift2} =1",
      weight: 2,
    },
    {
      kind: "availability",
      q: [
        "what if {worker} [cannot|can't|could not|is unable to] work [on|] {shift}?",
        "what if {worker} [is|were] [unavailable|off|sick|on leave] [on|for] {shift}?",
        "[remove|take] {worker} [from|off] {shift}[. what happens|]?",
      ],
      a: "forbid work {worker} {shift}",
    },
    {
      kind: "availability",
      q: [
        "what if {worker} [must|has to|had to] work [on|] {shift}?",
        "[assign|put|schedule] {worker} [to|on] {shift}[. what happens|]?",
      ],
      a: "fix work {worker} {shift} =1",
    },
    {
      kind: "pay",
      c: [
        `{worker}'s [pay|wage|salary|hourly rate] [is|were|becomes|goes to|rises to|changes to] {amt} [dollars|]`,
        `{worker} [gets|got|receives|received] a [raise|promotion|pay rise] to {amt} [dollars|] [per hour|an hour|per shift|]`,
        `{worker} [earns|earned|is paid|were paid] {amt} [dollars|] [per hour|an hour|per shift|]`,
      ],
      q: [
        `imagine {worker} [got|received] a promotion [and now earns|with a wage of|to] {amt} [dollars|] [an hour|per hour|]. [what are the implications|what happens|how does the cost change]?`,
      ],
      a: "set pay {worker} ={amt}",
    },
    {
      kind: "pay",
      c: [`{worker}'s [pay|wage|salary] ${UP} by {pct}%`, `{worker} [gets|got] a {pct}% raise`],
      a: "set pay {worker} +{pct}%",
    },
    {
      kind: "requirements",
      c: [
        `[we|I] need {n} more [people|workers|staff|employees|workforce] [on|for] {day}`,
        `{day} [needs|need|requires|require] {n} more [people|workers|staff]`,
        `[the|] staffing [requirement|needs] [on|for] {day} ${UP} by {n}`,
      ],
      q: [
        `if [we|I] need {n} more [people|workers] [specifically|] on {day}, [how can we handle that|what happens|how does the schedule change]?`,
        "is it possible to have {n} more [people|workers|staff] [on|for] {day}?",
        "[can|could] we [have|get|add] {n} [more|extra|additional] [people|workers|staff] [on|for] {day}?",
      ],
      a: "set requirement {day} +{n}",
    },
    {
      kind: "requirements",
      c: [
        `[we|I] need {n} more [people|workers|staff] [on|for] [shift|] {shift}`,
        `{shift} [needs|requires] {n} more [people|workers]`,
      ],
      a: "set requirement {shift} +{n}",
    },
    {
      kind: "requirements",
      c: [
        `[we|I] need {n} [people|workers|staff] [on|for] [shift|] {shift}`,
        `{shift} [needs|requires] {n} [people|workers]`,
      ],
      a: "set requirement {shift} ={n}",
    },
    {
      kind: "requirements",
      c: [`[we|I] need {n} fewer [people|workers|staff] [on|for] {day}`],
      a: "set requirement {day} -{n}",
    },
    {
      kind: "shift-limit",
      c: [
        `{worker} [cannot|can't|could not|is unable to|is not allowed to] work more than {n} shifts`,
        `{worker} [can|may] work at most {n} shifts`,
        `{worker}'s shifts [are|were] capped at {n}`,
        `{worker} [is|were] [restricted|limited] to [a maximum of|at most|no more than|] {n} shifts`,
        `{worker}'s [maximum|max] [number of shifts|workload|working capacity] [is|were] [restricted|limited|set] to {n} [shifts|]`,
      ],
      np: [`limiting {worker} to {n} shifts`, `a cap of {n} shifts [on|for] {worker}`],
      a: "limit shifts {worker} <={n}",
    },
    {
      kind: "shift-limit",
      c: [
        `{worker} [must|has to|needs to] work at least {n} shifts`,
        `{worker} [works|gets] no fewer than {n} shifts`,
      ],
      a: "limit shifts {worker} >={n}",
    },
    {
      kind: "shift-limit",
      c: [
        `[no|no one|nobody] [worker|employee|] [can|may] work more than {n} shifts`,
        `the [maximum|max] number of shifts [per worker|anyone can work|allowed] is {n}`,
        `[every|each|all] [worker|workers|employee|employees] [can|may] work at most {n} shifts`,
        `[workers|employees|everyone|all staff] [are|were] [limited|restricted|capped] to {n} shifts [each|]`,
      ],
      np: [
        `limiting [all|] [workers|employees|staff] to {n} shifts`,
        `a [maximum|cap|limit] of {n} shifts [per worker|for everyone|for all workers]`,
      ],
      a: "limit shifts * <={n}",
    },
    {
      kind: "shift-limit",
      c: [
        `[every|each|all] [worker|workers|employee|employees] [must|have to|has to] work at least {n} [shift|shifts]`,
        `[everyone|every worker] [gets|works] at least {n} [shift|shifts]`,
      ],
      a: "limit shifts * >={n}",
    },
    {
      kind: "conflicts",
      c: [
        `{worker} and {worker2} [cannot|can't|could not|must not|may not] work [on|] the same [day|shift]`,
        `{worker} and {worker2} [are|were] [never|not] [scheduled|working] together`,
        `{worker} and {worker2} [are|were] kept [apart|on different days]`,
      ],
      q: ["what if {worker} and {worker2} [are|were] prevented from working [on|] the same day?"],
      a: "apart work {worker} {worker2}",
    },
    { kind: "why", q: fill(WHY_USED, "{worker} on {shift}"), a: "why work {worker} {shift}" },
    {
      kind: "query",
      q: [
        "does {worker} work [on|] {shift}?",
        "is {worker} [scheduled|assigned] [on|for|to] {shift}?",
      ],
      a: "show work {worker} {shift}",
    },
    {
      kind: "query",
      q: [
        "how many shifts does {worker} work?",
        "how many shifts [is|has] {worker} [scheduled for|assigned|got]?",
      ],
      a: "show shifts {worker}",
    },
    {
      kind: "query",
      q: ["who works [on|] {shift}?", "which workers are [on|scheduled for] {shift}?"],
      a: "show work * {shift}",
    },
    {
      kind: "query",
      q: ["what is {worker}'s pay?", "how much does {worker} earn [per shift|]?"],
      a: "show pay {worker}",
    },
    {
      kind: "query",
      q: ["how many workers does {shift} need?", "what is the requirement [of|for] {shift}?"],
      a: "show requirement {shift}",
    },
    {
      kind: "query",
      q: ["what is the total [pay|cost|wage bill]?", "how much does the schedule cost?"],
      a: "show objective",
    },
  ],
};

/** Frames for a what-if clause (`{c}`) and for a cause noun phrase (`{np}`). */
export const CLAUSE_FRAMES = [
  "what [occurs|happens|results|follows] when {c}?",
  "what [consequences|effects|results] would [arise|follow|there be] if {c}?",
  "what would the [implications|consequences] be if {c}?",
  "what if {c}?",
  "what happens if {c}?",
  "what would happen if {c}?",
  "how would the [total cost|plan|solution|outcome|result] [change|be affected] if {c}?",
  "how [does|would] [it|that|this] affect [the plan|our costs|the cost|the solution] if {c}?",
  "suppose {c}. [what changes|what is the impact|how does the cost change|what happens]?",
  "assume {c}. [what is the new cost|what happens to the plan|how are we affected]?",
  "if {c}, [what happens|how does the plan change|what is the new cost|what would the outcome be]?",
  "what is the [impact|effect] [on the cost|on the plan|] if {c}?",
  "can you tell me what happens if {c}?",
  "imagine {c}. [what then|what would be the result|how does that change things]?",
  "what would be the [effect|result|outcome] if {c}?",
  "[consider|take] the [case|scenario] where {c}.",
  "{c}. how does that [affect|change] the [plan|cost|solution]?",
  "in case {c}, [what would the result be|how is the plan affected]?",
  "what [are|would be] the [consequences|implications] if {c}?",
  "[please|] [show me|tell me] what happens when {c}.",
];

export const NP_FRAMES = [
  "how would {np} affect [the plan|our costs|the total cost|the outcome|things]?",
  "what is the [impact|effect|result|consequence] of {np}?",
  "what would {np} do to [the cost|the plan|the solution]?",
  "in what way would {np} [change|affect|impact] the [solution|plan|cost]?",
  "what are the [implications|consequences] of {np}?",
  "how does {np} [change|affect|influence] [things|the plan|the outcome|the result]?",
  "[analyze|evaluate|assess] {np}.",
  "what if there [is|were|was] {np}?",
];
