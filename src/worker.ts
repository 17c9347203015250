import { run } from './run';

// The same image as the API, started as a job worker (`npm run start:worker`).
void run({ APP_ROLE: 'worker' });
