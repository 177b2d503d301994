// The queues: workflows × wikis with their counts, and the selected
// workflow's items (the list), its filters and the keyboard cursor.
//
// The item list can hold thousands of rows, so it is a shallowRef of plain,
// immutable row objects: a change replaces the row and the array, and only
// the rows on screen re-render.

import { defineStore } from 'pinia';
import { reactive, ref, shallowRef, computed } from 'vue';
import { api, seg } from '../api.js';
import { go } from '../router.js';
import { errorText } from '../errors.js';
import { useSessionStore } from './session.js';
import { insertionIndex } from '../text.js';
import { DEFAULT_FILTERS, applyFilters, cleanFilters } from '../filters.js';

/** How long a resolved row stays on screen, saying who resolved it. */
export const RESOLVED_LINGER_MS = 3000;
/** How long a new row is marked as new (its slide-in). */
const FRESH_MS = 1500;
/** Items loaded at most per workflow. */
const MAX_ITEMS = 20000;

export const useQueuesStore = defineStore( 'queues', () => {
	/** Workflows with counts: `[{name, title, kind, open, claimed, wikis: [...]}]`. */
	const workflows = ref( [] );
	const workflowsLoaded = ref( false );

	const list = reactive( {
		wf: null,
		loading: false,
		error: null,
		/** Index of the keyboard cursor in `visibleRows`. */
		cursor: 0
	} );

	/** The list's filters and order (filters.js), kept in the URL's query. */
	const filters = reactive( { ...DEFAULT_FILTERS } );

	/** Rows of the selected workflow, in queue order. */
	const rows = shallowRef( [] );

	const visibleRows = computed( () => {
		const session = useSessionStore();
		return applyFilters( rows.value, filters, session.me ? session.me.name : null );
	} );

	/** Sets every filter at once (from the URL or a saved choice). */
	function setFilters( f ) {
		const c = cleanFilters( f );
		for ( const k of Object.keys( c ) ) {
			if ( filters[ k ] !== c[ k ] ) {
				filters[ k ] = c[ k ];
			}
		}
	}

	const escalationWorkflows = computed( () => workflows.value.filter( ( w ) => w.kind === 'escalation' ) );

	const claimHolders = new Map(); // item id → holder, as far as this page knows
	let listGen = 0;
	let listBuffer = null; // frames that arrived while the list was loading

	// ---------------------------------------------------------- workflows

	async function loadWorkflows() {
		const wfs = await api( 'GET', '/api/v1/workflows' );
		workflows.value = Array.isArray( wfs ) ? wfs : [];
		workflowsLoaded.value = true;
	}

	function workflowOf( name ) {
		return workflows.value.find( ( w ) => w.name === name ) || null;
	}

	/** The workflow to show when none is asked for. */
	function defaultWorkflow() {
		const feed = workflows.value.filter( ( w ) => w.kind === 'feed' );
		const patrol = feed.find( ( w ) => w.name === 'patrol' );
		return ( patrol || feed[ 0 ] || workflows.value[ 0 ] || {} ).name || null;
	}

	function bump( wfName, wiki, dOpen, dClaimed ) {
		const wf = workflowOf( wfName );
		if ( !wf || !wiki ) {
			return;
		}
		let w = wf.wikis.find( ( x ) => x.wiki === wiki );
		if ( !w ) {
			if ( dOpen <= 0 ) {
				return;
			}
			w = { wiki, open: 0, claimed: 0 };
			wf.wikis.push( w );
			wf.wikis.sort( ( a, b ) => ( a.wiki < b.wiki ? -1 : 1 ) );
			w = wf.wikis.find( ( x ) => x.wiki === wiki );
		}
		w.open = Math.max( 0, w.open + dOpen );
		w.claimed = Math.max( 0, Math.min( w.open, w.claimed + dClaimed ) );
		wf.open = wf.wikis.reduce( ( s, x ) => s + x.open, 0 );
		wf.claimed = wf.wikis.reduce( ( s, x ) => s + x.claimed, 0 );
	}

	// --------------------------------------------------------------- list

	function toRow( view ) {
		return Object.freeze( {
			id: view.item.id,
			item: Object.freeze( view.item ),
			claim: view.claim || null,
			resolved: null,
			fresh: false,
			messages: Number( view.message_count ) || 0,
			lastSeq: Number( view.last_message_seq ) || 0
		} );
	}

	function replaceRow( id, fn ) {
		const arr = rows.value;
		const i = arr.findIndex( ( r ) => r.id === id );
		if ( i === -1 ) {
			return false;
		}
		const next = arr.slice();
		const row = fn( arr[ i ] );
		if ( row ) {
			next[ i ] = Object.freeze( row );
		} else {
			next.splice( i, 1 );
		}
		rows.value = next;
		return true;
	}

	function rowOf( id ) {
		return rows.value.find( ( r ) => r.id === id ) || null;
	}

	/** Loads every open item of a workflow (pages of 500). */
	async function loadList( wf, { keepCursor = false } = {} ) {
		const gen = ++listGen;
		if ( list.wf !== wf ) {
			rows.value = [];
			list.cursor = 0;
		}
		list.wf = wf;
		list.loading = true;
		list.error = null;
		listBuffer = [];
		const out = [];
		try {
			let cursor = null;
			do {
				const q = `limit=500${ cursor ? `&cursor=${ encodeURIComponent( cursor ) }` : '' }`;
				const page = await api( 'GET', `/api/v1/workflows/${ seg( wf ) }/items?${ q }` );
				if ( gen !== listGen ) {
					return;
				}
				for ( const v of page.items || [] ) {
					if ( v && v.item && v.item.id ) {
						out.push( toRow( v ) );
						if ( v.claim ) {
							claimHolders.set( v.item.id, v.claim.holder );
						}
					}
				}
				cursor = page.next || null;
			} while ( cursor && out.length < MAX_ITEMS );
		} catch ( e ) {
			if ( gen === listGen ) {
				list.loading = false;
				list.error = errorText( e );
				listBuffer = null;
			}
			return;
		}
		if ( gen !== listGen ) {
			return;
		}
		rows.value = out;
		list.loading = false;
		const buffered = listBuffer || [];
		listBuffer = null;
		for ( const f of buffered ) {
			applyToList( f );
		}
		if ( !keepCursor ) {
			list.cursor = Math.min( list.cursor, Math.max( 0, visibleRows.value.length - 1 ) );
		}
	}

	/** Forgets the list (sign-out). */
	function clearList() {
		rows.value = [];
		list.wf = null;
	}

	function applyToList( f ) {
		if ( listBuffer ) {
			listBuffer.push( f );
			return;
		}
		const wf = list.wf;
		switch ( f.type ) {
			case 'item.new':
			case 'item.updated': {
				const item = f.item;
				if ( !item || !Array.isArray( item.workflows ) || !item.workflows.includes( wf ) ) {
					return;
				}
				const arr = rows.value;
				const i = arr.findIndex( ( r ) => r.id === item.id );
				if ( i !== -1 ) {
					const old = arr[ i ];
					const next = arr.slice();
					next.splice( i, 1 );
					const row = Object.freeze( { ...old, item: Object.freeze( item ) } );
					next.splice( insertionIndex( next, item ), 0, row );
					rows.value = next;
					return;
				}
				if ( f.type === 'item.updated' ) {
					return;
				}
				const row = Object.freeze( { id: item.id, item: Object.freeze( item ), claim: null, resolved: null, fresh: true, messages: 0, lastSeq: 0 } );
				const next = arr.slice();
				next.splice( insertionIndex( next, item ), 0, row );
				rows.value = next;
				setTimeout( () => replaceRow( item.id, ( r ) => ( r.fresh ? { ...r, fresh: false } : r ) ), FRESH_MS );
				return;
			}
			case 'item.claimed':
				replaceRow( f.item, ( r ) => ( { ...r, claim: { holder: f.holder, expires_at: f.expires_at } } ) );
				return;
			case 'item.released':
				replaceRow( f.item, ( r ) => ( r.claim && r.claim.holder === f.holder ? { ...r, claim: null } : r ) );
				return;
			case 'item.resolved': {
				const by = f.by && f.by.name ? f.by.name : '?';
				const found = replaceRow( f.item, ( r ) => ( { ...r, claim: null, resolved: { by, outcome: f.outcome } } ) );
				if ( found ) {
					setTimeout( () => replaceRow( f.item, ( r ) => ( r.resolved ? null : r ) ), RESOLVED_LINGER_MS );
				}
				return;
			}
		}
	}

	/**
	 * An `item.*` frame: the counts (claims this page knows of are not
	 * counted twice) and the list.
	 */
	function applyFrame( f ) {
		switch ( f.type ) {
			case 'item.new': {
				const item = f.item;
				if ( !item || !item.id ) {
					return;
				}
				for ( const wf of item.workflows || [] ) {
					bump( wf, item.wiki, 1, 0 );
				}
				break;
			}
			case 'item.claimed':
				if ( !claimHolders.has( f.item ) ) {
					for ( const wf of f.workflows || [] ) {
						bump( wf, f.wiki, 0, 1 );
					}
				}
				claimHolders.set( f.item, f.holder );
				break;
			case 'item.released':
				claimHolders.delete( f.item );
				for ( const wf of f.workflows || [] ) {
					bump( wf, f.wiki, 0, -1 );
				}
				break;
			case 'item.resolved': {
				const wasClaimed = claimHolders.delete( f.item );
				for ( const wf of f.workflows || [] ) {
					bump( wf, f.wiki, -1, wasClaimed ? -1 : 0 );
				}
				break;
			}
		}
		applyToList( f );
	}

	/** A `message.new` frame: one more message on its item's row. */
	function messageNew( m ) {
		if ( !m || !m.item || !Number.isInteger( m.seq ) ) {
			return;
		}
		replaceRow( m.item, ( r ) => ( m.seq > r.lastSeq ? { ...r, messages: r.messages + 1, lastSeq: m.seq } : r ) );
	}

	/** Shows a claim on its row. */
	function rowClaimed( id, claim ) {
		replaceRow( id, ( r ) => ( { ...r, claim } ) );
	}

	/** Opens the row under the keyboard cursor. */
	function openCursor() {
		const r = visibleRows.value[ list.cursor ];
		if ( r && list.wf ) {
			go( 'item', list.wf, r.id );
		}
	}

	/**
	 * The row to open after deciding on `id`: the next one in the list as
	 * shown that is open and not held by someone else (`me` may hold it);
	 * the keyboard cursor moves onto it.
	 */
	function nextAfter( id, me ) {
		const arr = visibleRows.value;
		let i = arr.findIndex( ( r ) => r.id === id );
		if ( i === -1 ) {
			i = list.cursor - 1;
		}
		const t = Date.now();
		for ( let j = i + 1; j < arr.length; j++ ) {
			const r = arr[ j ];
			if ( !r.resolved && r.id !== id && ( !r.claim || r.claim.holder === me || r.claim.expires_at <= t ) ) {
				list.cursor = j;
				return r;
			}
		}
		return null;
	}

	/** The person's other open items of the same user, from the loaded list. */
	function otherItemsOf( item ) {
		if ( !item ) {
			return [];
		}
		return rows.value.filter( ( r ) => r.id !== item.id && !r.resolved && r.item.user === item.user && r.item.wiki === item.wiki ).slice( 0, 20 );
	}

	return {
		workflows, workflowsLoaded, list, filters, setFilters, rows, visibleRows, escalationWorkflows,
		loadWorkflows, workflowOf, defaultWorkflow, rowOf, loadList, clearList, applyFrame, messageNew, rowClaimed,
		openCursor, nextAfter, otherItemsOf
	};
} );
