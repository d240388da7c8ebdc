/** Is this File an ISO 9660 image? Read 6 bytes at sector 16 instead of uploading first. */
export async function looksLikeIso(file: Blob): Promise<boolean> {
  const head = new Uint8Array(await file.slice(32768, 32774).arrayBuffer());
  return head.length === 6 && head[0] === 1 && String.fromCharCode(...head.subarray(1)) === 'CD001';
}
