/**
 * What a machine's provided actions act on, per actor (or per actor system). Machines are provided once per process
 * (a provided copy rebuilds the whole state tree); each actor is registered here when it is created, and its actions
 * look their wiring up through the acting actor (`self`) or its `system`.
 */
export function wiringTable<W>(owner: string) {
  const table = new WeakMap<object, W>();
  return {
    set(key: object, wiring: W): void {
      table.set(key, wiring);
    },
    of(key: object): W {
      const w = table.get(key);
      if (!w) throw new Error(`${owner}: this actor was not created through its facade (nothing to act on)`);
      return w;
    },
  };
}
