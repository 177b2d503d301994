// A community's code of conduct: the prompt shown when a post is refused
// with `conduct_required`, and its acceptance (`POST
// /api/v1/wikis/{wiki}/conduct`), after which the post is sent again.

import { defineStore } from 'pinia';
import { ref } from 'vue';
import { api, seg } from '../api.js';
import { errorText } from '../errors.js';
import { httpsUrl } from '../links.js';
import { useSessionStore } from './session.js';
import { useWikisStore } from './wikis.js';

export const useConductStore = defineStore( 'conduct', () => {
	/** The open prompt: `{wiki, url, error}` (url null when not https), or null. */
	const prompt = ref( null );
	const busy = ref( false );
	let answer = null;

	/**
	 * Asks the person to accept a community's code of conduct.
	 *
	 * @param {{wiki?: string, conduct_url?: string}} err the refusal's `error`
	 * @return {Promise<boolean>} true once accepted (and recorded), false when not
	 */
	function ask( err ) {
		const wiki = err && typeof err.wiki === 'string' && err.wiki ? err.wiki : null;
		if ( !wiki ) {
			return Promise.resolve( false );
		}
		finish( false );
		const url = httpsUrl( err.conduct_url ) || useWikisStore().conductUrlOf( wiki );
		prompt.value = { wiki, url, error: '' };
		return new Promise( ( resolve ) => {
			answer = resolve;
		} );
	}

	function finish( accepted ) {
		const a = answer;
		answer = null;
		prompt.value = null;
		if ( a ) {
			a( accepted );
		}
	}

	/** Accepts the open prompt's code: POSTs it, then lets the post go again. */
	async function accept() {
		const p = prompt.value;
		if ( !p || busy.value ) {
			return false;
		}
		busy.value = true;
		try {
			await api( 'POST', `/api/v1/wikis/${ seg( p.wiki ) }/conduct` );
			const session = useSessionStore();
			if ( session.me ) {
				session.me.conduct = { ...( session.me.conduct || {} ), [ p.wiki ]: Date.now() };
			}
			finish( true );
			return true;
		} catch ( e ) {
			if ( prompt.value === p ) {
				p.error = errorText( e );
			}
			return false;
		} finally {
			busy.value = false;
		}
	}

	/** Closes the prompt without accepting: the post is not sent. */
	function cancel() {
		finish( false );
	}

	return { prompt, busy, ask, accept, cancel };
} );
