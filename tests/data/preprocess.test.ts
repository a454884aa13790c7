import { describe, expect, it } from "vitest";
import { preprocess } from "../../runtime/data/preprocess.js";
import { splitLastPerClass, subsetPerClass } from "../../runtime/data/split.js";
import { DataError, type ImageDataset } from "../../runtime/data/types.js";
import { SCHEDULE_DATA_RANGE } from "../../runtime/diffusion/schedules.js";
import { syntheticDataset } from "./synthetic.js";

// One 2x2 image with pixels 0, 255, 128, 51.
const one: ImageDataset = {
  images: Uint8Array.of(0, 255, 128, 51),
  labels: Int32Array.of(0),
  count: 1,
  channels: 1,
  height: 2,
  width: 2,
  classNames: ["a"],
};

describe("preprocess", () => {
  it("cosine: pads with zeros before scaling to [-0.5, 0.5] (x/255 - 0.5)", () => {
    const f = preprocess(one, { pad: 2, range: SCHEDULE_DATA_RANGE.cosine });
    expect([f.height, f.width]).toEqual([6, 6]);
    const at = (y: number, x: number): number => f.data[y * 6 + x];
    expect(at(0, 0)).toBe(-0.5); // padding = pixel value 0
    expect(at(5, 5)).toBe(-0.5);
    expect(at(2, 2)).toBe(-0.5);
    expect(at(2, 3)).toBe(0.5);
    expect(at(3, 2)).toBeCloseTo(128 / 255 - 0.5, 7);
    expect(at(3, 3)).toBeCloseTo(0.2 - 0.5, 7);
    expect(at(3, 4)).toBe(-0.5);
  });

  it("Karras: [-1, 1] (x/255*2 - 1)", () => {
    const f = preprocess(one, { pad: 0, range: SCHEDULE_DATA_RANGE.karras });
    expect(Array.from(f.data)).toEqual([-1, 1, Math.fround((128 / 255) * 2 - 1), Math.fround(0.4 - 1)]);
  });

  it("Fashion-MNIST's 28x28 becomes 32x32 with pad 2", () => {
    const ds = syntheticDataset(2, 2, 28, 28);
    const f = preprocess(ds, { pad: 2, range: [-1, 1] });
    expect([f.count, f.channels, f.height, f.width, f.data.length]).toEqual([4, 1, 32, 32, 4 * 1024]);
    expect(f.data[1024 + 2 * 32 + 2]).toBeCloseTo((ds.images[784] / 255) * 2 - 1, 6); // image 1, pixel (0, 0)
  });

  it("rejects a bad pad or range", () => {
    expect(() => preprocess(one, { pad: -1, range: [0, 1] })).toThrow(DataError);
    expect(() => preprocess(one, { range: [1, 0] })).toThrow(/bad range/);
  });
});

describe("splits and subsets", () => {
  const ds = syntheticDataset(3, 10); // labels cycle 0,1,2,... so class c holds images c, c+3, ...

  it("subset keeps the first k of each class, in dataset order", () => {
    const s = subsetPerClass(ds, 2);
    expect(s.count).toBe(6);
    expect(Array.from(s.labels)).toEqual([0, 1, 2, 0, 1, 2]);
    expect(s.images[s.height * s.width * 3]).toBe(ds.images[ds.height * ds.width * 3]); // image 3 = class 0's second
    expect(subsetPerClass(ds, 100).count).toBe(30);
  });

  it("the last n of each class are test", () => {
    const { train, test } = splitLastPerClass(ds, 3);
    expect([train.count, test.count]).toEqual([21, 9]);
    // Class 0's images are 0, 3, ..., 27: the test ones are 21, 24, 27 (the first test images).
    const per = ds.height * ds.width;
    expect(test.images[0]).toBe(ds.images[21 * per]);
    expect(() => splitLastPerClass(ds, 11)).toThrow(/fewer than the 11/);
  });
});
