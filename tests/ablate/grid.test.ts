import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GridError, checkAxes, expandGrid, parseGridArg, planRuns, seedList, variantDir } from "../../runtime/ablate/grid.js";

function gridError(text: string): string {
  try {
    parseGridArg(text);
  } catch (e) {
    expect(e).toBeInstanceOf(GridError);
    return (e as Error).message;
  }
  throw new Error(`no error for ${text}`);
}

describe("parseGridArg", () => {
  it("splits at top-level commas only, keeping lists and strings whole", () => {
    expect(parseGridArg("attn_chans=0,8,16")).toEqual({ key: "attn_chans", values: ["0", "8", "16"] });
    expect(parseGridArg("nfs=[16,32],[32,64]")).toEqual({ key: "nfs", values: ["[16,32]", "[32,64]"] });
    expect(parseGridArg("nfs=[[1,2],[3]],[4]").values).toEqual(["[[1,2],[3]]", "[4]"]);
    expect(parseGridArg(' norm = group , "a,b" , "c]" ').values).toEqual(["group", '"a,b"', '"c]"']);
    expect(parseGridArg("use_attn=true,false").values).toEqual(["true", "false"]);
    expect(parseGridArg("lr=-1.5,2e-3").values).toEqual(["-1.5", "2e-3"]);
    expect(parseGridArg("k=1").values).toEqual(["1"]);
  });

  it("says what is wrong and shows the argument", () => {
    expect(gridError("attn_chans=")).toBe("--grid attn_chans=: no values");
    expect(gridError("attn_chans=  ")).toBe("--grid attn_chans=  : no values");
    expect(gridError("attn_chans")).toBe("--grid attn_chans: expected key=v1,v2,... (for example --grid attn_chans=0,8,16)");
    expect(gridError("=1,2")).toBe('--grid =1,2: no parameter name before "="');
    expect(gridError("2x=1")).toBe('--grid 2x=1: "2x" is not a parameter name (letters, digits and _, not starting with a digit)');
    expect(gridError("a.b=1")).toContain('"a.b" is not a parameter name');
    expect(gridError("k=1,,2")).toBe("--grid k=1,,2: value 2 is empty (two commas in a row, or a comma at an end)");
    expect(gridError("k=1,2,")).toContain("value 3 is empty");
    expect(gridError("k=1,2,1")).toBe('--grid k=1,2,1: "1" is listed twice');
    expect(gridError("nfs=[16,32],[16, 32]")).toBe('--grid nfs=[16,32],[16, 32]: "[16,32]" and "[16, 32]" are the same value');
    expect(gridError("nfs=[16,32")).toBe('--grid nfs=[16,32: unclosed "["');
    expect(gridError("nfs=16,32]")).toBe('--grid nfs=16,32]: unmatched "]"');
    expect(gridError("nfs=[16,32)")).toBe('--grid nfs=[16,32): "[" closed by ")"');
    expect(gridError('s="a,b')).toContain("unterminated string");
  });

  it("keeps whitespace inside strings significant for duplicates", () => {
    expect(parseGridArg('s="a b","ab"').values).toEqual(['"a b"', '"ab"']);
  });
});

describe("expandGrid", () => {
  it("is the Cartesian product with the first axis slowest", () => {
    const axes = [parseGridArg("a=1,2"), parseGridArg("b=x,y,z")];
    const vs = expandGrid(axes);
    expect(vs.map((v) => v.id)).toEqual(["a=1,b=x", "a=1,b=y", "a=1,b=z", "a=2,b=x", "a=2,b=y", "a=2,b=z"]);
    expect(vs[4]).toEqual({ id: "a=2,b=y", label: "a=2 b=y", dir: "a-2_b-y", sets: ["a=2", "b=y"] });
    expect(expandGrid([...axes, parseGridArg("c=[1,2],[3],4,5")])).toHaveLength(24);
  });

  it("gives one baseline variant for no axes", () => {
    expect(expandGrid([])).toEqual([{ id: "", label: "baseline", dir: "baseline", sets: [] }]);
  });

  it("rejects a key given twice", () => {
    const axes = [parseGridArg("a=1,2"), parseGridArg("b=1"), parseGridArg("a=3")];
    expect(() => checkAxes(axes)).toThrow(GridError);
    expect(() => expandGrid(axes)).toThrow("--grid a: given twice; put all its values in one --grid a=v1,v2,...");
  });

  it("names folders readably when the values are plain", () => {
    expect(expandGrid([parseGridArg("attn_chans=0,8"), parseGridArg("norm=group")]).map((v) => v.dir)).toEqual([
      "attn_chans-0_norm-group",
      "attn_chans-8_norm-group",
    ]);
    expect(variantDir([["lr", "0.001"]])).toBe("lr-0.001");
  });

  it("adds a hash when the folder name loses information, so folders never collide", () => {
    const dir = variantDir([["nfs", "[16,32,64]"]]);
    expect(dir).toMatch(/^nfs-16\.32\.64\+[0-9a-f]{10}$/);
    // Differ only in characters the slug drops or maps: same slug, different hash.
    const pairs: [string, string][] = [
      ["[16,32]", "[16, 32]"],
      ['"a/b"', '"a b"'],
      ["[1,2]", "[[1,2]]"],
      ["Group", "group"], // case-insensitive file systems
      ["-1", "1"],
      ["a_b", "a.b"],
    ];
    for (const [x, y] of pairs) expect(variantDir([["k", x]]), `${x} vs ${y}`).not.toBe(variantDir([["k", y]]));
    expect(variantDir([["k", "group"]])).toBe("k-group");
    expect(variantDir([["k", "Group"]])).toMatch(/^k-group\+[0-9a-f]{10}$/);
    // Key/value boundaries cannot shift: a_b=1 alone vs a=1 then b=... are different names.
    expect(variantDir([["a_b", "1"]])).not.toBe(variantDir([["a", "b"], ["b", "1"]]));
    // Every folder name is safe: no separators, brackets, quotes, commas or spaces.
    for (const [x] of pairs) expect(variantDir([["k", x]])).toMatch(/^[a-z0-9._+-]+$/);
  });

  it("keeps long folder names under the file-system limit", () => {
    const long = `[${Array.from({ length: 100 }, (_, i) => i).join(",")}]`;
    const dir = variantDir([["nfs", long]]);
    expect(dir.length).toBeLessThan(140);
    expect(dir).not.toBe(variantDir([["nfs", long.replace("99", "98")]]));
    const plainLong = "x".repeat(200);
    expect(variantDir([["k", plainLong]]).length).toBeLessThan(140);
  });
});

describe("run plan", () => {
  it("lists consecutive seeds", () => {
    expect(seedList(0, 3)).toEqual([0, 1, 2]);
    expect(seedList(42, 1)).toEqual([42]);
    expect(() => seedList(0, 0)).toThrow("--seeds 0: expected a positive integer");
    expect(() => seedList(0, 1.5)).toThrow(GridError);
  });

  it("puts each variant and seed in its own folder, variant-major", () => {
    const vs = expandGrid([parseGridArg("a=1,2")]);
    const runs = planRuns(vs, [7, 8], "runs/abl");
    expect(runs.map((r) => [r.variant.id, r.seed, r.dir])).toEqual([
      ["a=1", 7, join("runs/abl", "a-1", "seed-7")],
      ["a=1", 8, join("runs/abl", "a-1", "seed-8")],
      ["a=2", 7, join("runs/abl", "a-2", "seed-7")],
      ["a=2", 8, join("runs/abl", "a-2", "seed-8")],
    ]);
    expect(planRuns(expandGrid([]), [0], "r")[0].dir).toBe(join("r", "baseline", "seed-0"));
    expect(new Set(runs.map((r) => r.dir)).size).toBe(runs.length);
  });
});
