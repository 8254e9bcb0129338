// The one contract suite every Store backend must pass; store.test.ts runs it per backend.

import type { Store } from '../../src/store/store.js';
import type { TestStoreName, TestStores } from '../helpers/test-stores.js';
import { apiKeyStoreContract } from './contract/api-key-store.contract.js';
import { capabilitiesContract } from './contract/capabilities.contract.js';
import { functionStoreContract } from './contract/function-store.contract.js';
import { queueAndLogsContract } from './contract/queue-and-logs.contract.js';
import { routeStoreContract } from './contract/route-store.contract.js';

/**
 * Registers every contract test for one backend. Pass it straight to `forEachStore`:
 * `forEachStore(storeContract)`. `open` must give a fresh, empty store on each call.
 */
export function storeContract(name: TestStoreName, open: () => Promise<Store>, stores: TestStores): void {
  functionStoreContract(open);
  routeStoreContract(open);
  apiKeyStoreContract(open);
  queueAndLogsContract(open, stores);
  capabilitiesContract(name, open, stores);
}
