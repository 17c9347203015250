import { render } from 'preact';
import { App } from './app';
import { Store } from './store';

const store = new Store();
render(<App store={store} />, document.getElementById('app')!);
void store.start();
document.addEventListener('visibilitychange', () => store.markOpenRead());
