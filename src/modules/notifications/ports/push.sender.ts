import type { PushMessage, PushOutcome, PushProvider } from '../domain/push';

/**
 * Sends one push through one provider. Resolves `gone` when the provider says the token
 * no longer exists; throws on anything worth retrying (network, 5xx, throttling).
 */
export abstract class PushSender {
  abstract readonly name: string;
  abstract send(provider: PushProvider, token: string, message: PushMessage): Promise<PushOutcome>;
}

/** The sender in charge of each provider, chosen from settings at startup. */
export abstract class PushSenders {
  abstract for(provider: PushProvider): PushSender;
}
