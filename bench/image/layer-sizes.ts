/**
 * Splits an image of `totalBytes` into `layers` layer sizes the way real images look: one
 * large layer (half the image, or all of it for a single layer) and the rest shared equally,
 * so the "largest layer" whose first byte and completion are reported stands out. The sizes
 * are the layers' content; gzip framing adds a few bytes to each blob.
 */
export function layerSizes(totalBytes: number, layers: number): number[] {
  if (layers <= 1) return [totalBytes];
  const largest = Math.floor(totalBytes / 2);
  const each = Math.floor((totalBytes - largest) / (layers - 1));
  const rest = Array.from({ length: layers - 1 }, () => each);
  rest[rest.length - 1]! += totalBytes - largest - each * (layers - 1);
  return [largest, ...rest];
}
