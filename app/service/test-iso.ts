/** A minimal ISO 9660 image (system area, primary volume descriptor, terminator) for tests. */
export function makeIso(label: string, options: { bootable?: boolean } = {}): Buffer {
  const sector = 2048;
  const image = Buffer.alloc(sector * 20);
  const pvd = 16 * sector;
  image[pvd] = 1;
  image.write('CD001', pvd + 1, 'latin1');
  image[pvd + 6] = 1;
  image.write(label.padEnd(32, ' ').slice(0, 32), pvd + 40, 'latin1');
  let next = 17 * sector;
  if (options.bootable === true) {
    image[next] = 0;
    image.write('CD001', next + 1, 'latin1');
    image[next + 6] = 1;
    image.write('EL TORITO SPECIFICATION', next + 7, 'latin1');
    next += sector;
  }
  image[next] = 255;
  image.write('CD001', next + 1, 'latin1');
  image[next + 6] = 1;
  return image;
}
