import { deviceMismatches } from './envelopes';

const alice = 'alice';
const bob = 'bob';
const devices = [
  { id: 'a1', userId: alice, active: true },
  { id: 'a2', userId: alice, active: true },
  { id: 'a3', userId: alice, active: false },
  { id: 'b1', userId: bob, active: true },
  { id: 'b2', userId: bob, active: true },
];

describe('deviceMismatches', () => {
  it('accepts every current device of every member but the sending one', () => {
    expect(deviceMismatches([alice, bob], devices, 'a1', ['a2', 'b1', 'b2'])).toEqual([]);
  });

  it('reports missing devices and extra ones (a removed device, the sending one) per member', () => {
    expect(deviceMismatches([alice, bob], devices, 'a1', ['a1', 'a3', 'b1'])).toEqual([
      { userId: alice, missingDevices: ['a2'], extraDevices: ['a1', 'a3'] },
      { userId: bob, missingDevices: ['b2'], extraDevices: [] },
    ]);
  });

  it('puts devices of no member under a null user, whoever owns them', () => {
    expect(deviceMismatches([alice], devices, 'a1', ['a2', 'b1', 'zz'])).toEqual([
      { userId: null, missingDevices: [], extraDevices: ['b1', 'zz'] },
    ]);
  });
});
