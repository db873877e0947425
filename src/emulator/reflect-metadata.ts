/**
 * A minimal `Reflect` metadata polyfill. @peculiar/x509 uses tsyringe, which refuses to load without
 * one, and no polyfill package (reflect-metadata, @abraham/reflection) is installed. tsyringe needs
 * only define/get(Own)Metadata and the `Reflect.metadata` decorator tslib emits; nothing else uses it.
 * Import this module before anything that imports @peculiar/x509.
 */
type Target = object;
type Key = string | symbol | undefined;

const store = new WeakMap<Target, Map<Key, Map<unknown, unknown>>>();

function ownMap(target: Target, property: Key, create: boolean): Map<unknown, unknown> | undefined {
  let byProperty = store.get(target);
  if (!byProperty) {
    if (!create) return undefined;
    byProperty = new Map();
    store.set(target, byProperty);
  }
  let map = byProperty.get(property);
  if (!map && create) {
    map = new Map();
    byProperty.set(property, map);
  }
  return map;
}

function getOwnMetadata(key: unknown, target: Target, property?: Key): unknown {
  return ownMap(target, property, false)?.get(key);
}

function getMetadata(key: unknown, target: Target, property?: Key): unknown {
  // Walk the prototype chain, as the real polyfill does, so subclasses inherit metadata.
  for (let t: Target | null = target; t; t = Object.getPrototypeOf(t) as Target | null) {
    const map = ownMap(t, property, false);
    if (map?.has(key)) return map.get(key);
  }
  return undefined;
}

function defineMetadata(key: unknown, value: unknown, target: Target, property?: Key): void {
  ownMap(target, property, true)?.set(key, value);
}

const polyfill = {
  defineMetadata,
  getMetadata,
  getOwnMetadata,
  hasMetadata: (key: unknown, target: Target, property?: Key) => getMetadata(key, target, property) !== undefined,
  hasOwnMetadata: (key: unknown, target: Target, property?: Key) => ownMap(target, property, false)?.has(key) ?? false,
  metadata: (key: unknown, value: unknown) => (target: Target, property?: Key) => defineMetadata(key, value, target, property),
};

const reflect = Reflect as unknown as Record<string, unknown>;
if (typeof reflect['getMetadata'] !== 'function') {
  for (const [name, fn] of Object.entries(polyfill)) reflect[name] = fn;
}
