// Each wiki's settings (`GET /api/v1/wikis`, read once): its content
// language and direction, for the titles and summaries that come from it,
// and its community's code of conduct.

import { defineStore } from 'pinia';
import { shallowRef } from 'vue';
import { api } from '../api.js';
import { httpsUrl } from '../links.js';

/** What content of a wiki gets when nothing is known about it. */
const UNKNOWN = Object.freeze( { lang: undefined, dir: 'auto' } );

const LANG = /^[a-z]{2,3}(-[a-z0-9]{1,8})*$/i;

/** One wiki's entry, checked: `{lang, dir, conductUrl}`. */
function settings( raw ) {
	if ( !raw || typeof raw !== 'object' ) {
		return null;
	}
	const lang = typeof raw.language === 'string' && LANG.test( raw.language ) ? raw.language : undefined;
	const dir = raw.direction === 'rtl' || raw.direction === 'ltr' ? raw.direction : 'auto';
	return Object.freeze( {
		content: Object.freeze( { lang, dir } ),
		conductUrl: httpsUrl( raw.conduct_url )
	} );
}

export const useWikisStore = defineStore( 'wikis', () => {
	/** `{byWiki: Map, fallback}`, or null until loaded. */
	const known = shallowRef( null );
	let loading = null;

	/** Reads `/api/v1/wikis` once; a failed read is tried again on the next call. */
	function load() {
		if ( !loading ) {
			loading = api( 'GET', '/api/v1/wikis' ).then( ( d ) => {
				const byWiki = new Map();
				// The api lists the wikis, each naming itself (`wiki`).
				const list = ( d && d.wikis ) || [];
				const entries = Array.isArray( list ) ?
					list.filter( ( w ) => w && typeof w.wiki === 'string' ).map( ( w ) => [ w.wiki, w ] ) :
					Object.entries( list );
				for ( const [ wiki, raw ] of entries ) {
					const s = settings( raw );
					if ( s ) {
						byWiki.set( wiki, s );
					}
				}
				known.value = { byWiki, fallback: settings( d && d.default ) };
			}, () => {
				loading = null;
			} );
		}
		return loading;
	}

	function of( wiki ) {
		const k = known.value;
		return k ? ( k.byWiki.get( wiki ) || k.fallback ) : null;
	}

	/**
	 * The `lang` and `dir` attributes of a wiki's content (titles, edit
	 * summaries): the wiki's, else the default's, else `dir="auto"`.
	 *
	 * @param {string} wiki
	 * @return {{lang: string|undefined, dir: string}}
	 */
	function contentOf( wiki ) {
		const s = of( wiki );
		return s ? s.content : UNKNOWN;
	}

	/** The https URL of a wiki's code of conduct, or null. */
	function conductUrlOf( wiki ) {
		const s = of( wiki );
		return s ? s.conductUrl : null;
	}

	return { known, load, contentOf, conductUrlOf };
} );
