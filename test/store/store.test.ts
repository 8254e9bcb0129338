// Runs the store contract suite against every backend in NIMBUS_TEST_STORES.

import { installLeakGuard } from '../helpers/leak-guard.js';
import { forEachStore } from '../helpers/test-stores.js';
import { storeContract } from './store.contract.js';

installLeakGuard();
forEachStore(storeContract);
