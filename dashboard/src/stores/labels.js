// Labels of Wikidata entities: an item whose page is `Q42` says what Q42
// is, in the page's language (or English), as the api reads it from the
// wiki (`GET /api/v1/items/{id}/label`). Asked once per item and language,
// a few at a time, for the open item (the item view's chunk holds this
// store, not the list's first script).

import { defineStore } from 'pinia';
import { reactive } from 'vue';
import { api, seg } from '../api.js';
import { locale } from '../i18n.js';

/** Requests in flight at most. */
const PARALLEL = 4;
/** Labels remembered at most (per language and item). */
const MAX = 5000;

/** Whether an item's page is a Wikibase entity the api has a label for. */
export function isEntity( item ) {
	if ( !item || typeof item.wiki !== 'string' || !item.wiki.endsWith( 'wikidatawiki' ) ) {
		return false;
	}
	const title = String( item.title || '' );
	return ( item.namespace === 0 && /^Q[1-9][0-9]{0,11}$/.test( title ) ) ||
		( item.namespace === 120 && /^Property:P[1-9][0-9]{0,11}$/.test( title ) );
}

export const useLabelsStore = defineStore( 'labels', () => {
	/** `<lang>|<item id>` → `{label, lang}` (label null: none), or `false` while asked. */
	const known = reactive( new Map() );
	const queue = [];
	let running = 0;

	function pump() {
		while ( running < PARALLEL && queue.length ) {
			const { key, id, lang } = queue.shift();
			running++;
			api( 'GET', `/api/v1/items/${ seg( id ) }/label?lang=${ seg( lang ) }` ).then(
				( v ) => known.set( key, { label: v && typeof v.label === 'string' ? v.label : null, lang: v && v.lang } ),
				() => known.set( key, { label: null, lang: null } )
			).finally( () => {
				running--;
				pump();
			} );
		}
	}

	/** Asks for the labels of these items' entities, unless known or asked. */
	function want( items ) {
		const lang = locale.value;
		for ( const item of items ) {
			if ( !isEntity( item ) ) {
				continue;
			}
			const key = `${ lang }|${ item.id }`;
			if ( known.has( key ) ) {
				continue;
			}
			if ( known.size >= MAX ) {
				known.delete( known.keys().next().value );
			}
			known.set( key, false );
			queue.push( { key, id: item.id, lang } );
		}
		pump();
	}

	/** The label of an item's entity, `{label, lang}`, once known. */
	function labelOf( item ) {
		if ( !isEntity( item ) ) {
			return null;
		}
		const v = known.get( `${ locale.value }|${ item.id }` );
		return v && v.label ? v : null;
	}

	return { want, labelOf };
} );
