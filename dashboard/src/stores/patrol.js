// Patrolling the open item in place: its diff (`/diff`, the whole episode
// and each of its revisions), its editor at a glance (`/editor`), and the
// actions on the wiki (`/actions`: what may be done and why not; `POST
// /actions/{action}`: revert, warn, tag, report, ask, thank, patrol). Only
// the item view's lazily loaded panels use this store, so it is in their
// chunk.

import { defineStore } from 'pinia';
import { reactive, computed } from 'vue';
import { api, ApiError, seg } from '../api.js';
import { t } from '../i18n.js';
import { errorText } from '../errors.js';
import { useItemStore, heldToken } from './item.js';
import { useSessionStore } from './session.js';

const LAYOUT_KEY = 'patrolchat.diffLayout';
/** The layouts of a diff. */
export const LAYOUTS = [ 'side', 'inline' ];

/** The actions that send the claim's fencing token. */
const FENCED = new Set( [ 'revert', 'tag', 'warn', 'report', 'patrol' ] );
/** An item an action resolved: the outcome it is shown with. */
const OUTCOME_OF = { revert: 'reverted', patrol: 'ok' };
/** Refusals that offer a next step: code → what is offered. */
const OFFERS = { only_author: 'tag', confirm_needed: 'confirm', top_level: 'report' };

function storedLayout() {
	try {
		const v = localStorage.getItem( LAYOUT_KEY );
		if ( LAYOUTS.includes( v ) ) {
			return v;
		}
	} catch {
		// storage off: the width decides
	}
	return typeof window !== 'undefined' && window.innerWidth < 720 ? 'inline' : 'side';
}

/** Why a warning waits for confirmation (`reason` of `confirm_needed`). */
const CONFIRM_REASONS = {
	old_edit: 'patrolchat-act-confirm-old-edit',
	acted_since: 'patrolchat-act-confirm-acted-since'
};

/** The text of a failed request; a warning refused until confirmed says why. */
function failure( e ) {
	const err = ( e instanceof ApiError && e.code === 'confirm_needed' && e.body && e.body.error ) || {};
	return Object.hasOwn( CONFIRM_REASONS, err.reason ) ? t( CONFIRM_REASONS[ err.reason ] ) : errorText( e );
}

/** A revision id, or null. */
function revId( v ) {
	return Number.isSafeInteger( v ) && v > 0 ? v : null;
}

/**
 * What an action did, in the person's language: from the answer's
 * `action` and its fields (`detail`, `base_rev`, `notified`); the api's
 * English `message` only for an action this page does not know.
 *
 * @param {string} action
 * @param {Object} answer `POST /api/v1/items/{id}/actions`'s answer
 * @param {string} user the item's editor
 * @return {string}
 */
export function doneText( action, answer, user ) {
	const a = answer || {};
	const detail = typeof a.detail === 'string' ? a.detail : '';
	switch ( action ) {
		case 'revert':
			return t( a.method === 'undo' || detail === 'undo' ? 'patrolchat-act-result-revert-undo' : 'patrolchat-act-result-revert-rollback', String( a.base_rev || '' ) );
		case 'tag':
			if ( a.notified === true ) {
				return t( 'patrolchat-act-result-tag-notified', detail, user );
			}
			return a.notified === false ?
				t( 'patrolchat-act-result-tag-notice-failed', detail, user ) :
				t( 'patrolchat-act-result-tag', detail );
		case 'warn': return t( 'patrolchat-act-result-warn', user, detail );
		case 'ask': return t( 'patrolchat-act-result-ask', user );
		case 'report': return t( 'patrolchat-act-result-report', user, detail );
		case 'thank': return t( 'patrolchat-act-result-thank', user );
		case 'patrol': return t( 'patrolchat-act-result-patrol' );
		default:
			return ( typeof a.message === 'string' && a.message ) || t( 'patrolchat-act-done' );
	}
}

export const usePatrolStore = defineStore( 'patrol', () => {
	/** The item whose panels these are. */
	let itemId = null;
	let gen = 0;

	const diff = reactive( {
		/** The episode's revisions, newest first (from the whole episode's answer). */
		revisions: [],
		/** Index into `steps`: 0 is the whole episode. */
		step: 0,
		/** Answers by step key (`all` or the revision id). */
		answers: {},
		loading: false,
		error: null,
		layout: storedLayout()
	} );

	/** The steps of the diff: the whole episode, then each revision (when there are several). */
	const steps = computed( () => ( diff.revisions.length > 1 ? [ null, ...diff.revisions ] : [ null ] ) );
	const stepKey = ( rev ) => ( rev === null ? 'all' : String( rev ) );
	/** The answer shown. */
	const shown = computed( () => diff.answers[ stepKey( steps.value[ diff.step ] ?? null ) ] || null );

	const editor = reactive( { data: null, loading: false, error: null } );

	const actions = reactive( {
		/** `actions` of `GET /actions`: name → {offered, why_not, ...}. */
		data: null,
		loading: false,
		error: null,
		/** The action being sent (`revert:vandalism` for reverts), or null. */
		running: null,
		/** The last answer: `{type: success|error, text, code, offer, action, body}`. */
		result: null,
		/** The open form: warn, tag, report, ask, or null. */
		form: null
	} );

	/** Tokens of claims this page acted with, by item: for follow-ups once a revert resolved it. */
	const usedTokens = new Map();

	/** Starts over for item `id` (the panels mount per item). */
	function open( id ) {
		if ( itemId === id ) {
			return;
		}
		itemId = id;
		gen++;
		diff.revisions = [];
		diff.step = 0;
		diff.answers = {};
		diff.loading = false;
		diff.error = null;
		editor.data = null;
		editor.error = null;
		editor.loading = false;
		actions.data = null;
		actions.error = null;
		actions.loading = false;
		actions.running = null;
		actions.result = null;
		actions.form = null;
	}

	/** The panels closed: what was loaded goes. */
	function close() {
		open( null );
	}

	// ---------------------------------------------------------------- diff

	/** Whether `key` is the step shown. */
	const showing = ( key ) => stepKey( steps.value[ diff.step ] ?? null ) === key;

	async function loadDiff( rev = null ) {
		const id = itemId;
		const key = stepKey( rev );
		diff.error = null;
		if ( !id || diff.answers[ key ] ) {
			diff.loading = false;
			return;
		}
		const g = gen;
		diff.loading = true;
		try {
			const path = `/api/v1/items/${ seg( id ) }/diff${ rev === null ? '' : `?rev=${ rev }` }`;
			const answer = await api( 'GET', path );
			if ( g !== gen ) {
				return;
			}
			diff.answers = { ...diff.answers, [ key ]: answer || {} };
			if ( rev === null && answer && Array.isArray( answer.revisions ) ) {
				diff.revisions = answer.revisions.map( revId ).filter( ( r ) => r !== null );
			}
		} catch ( e ) {
			// An answer for a step left meanwhile is not that step's error.
			if ( g === gen && showing( key ) ) {
				diff.error = failure( e );
			}
		} finally {
			if ( g === gen && showing( key ) ) {
				diff.loading = false;
			}
		}
	}

	/** Shows the step `delta` away (next: 1, previous: -1). */
	function stepDiff( delta ) {
		const n = steps.value.length;
		const to = Math.max( 0, Math.min( n - 1, diff.step + delta ) );
		if ( to === diff.step ) {
			return false;
		}
		diff.step = to;
		loadDiff( steps.value[ to ] );
		return true;
	}

	function setLayout( layout ) {
		if ( !LAYOUTS.includes( layout ) ) {
			return;
		}
		diff.layout = layout;
		try {
			localStorage.setItem( LAYOUT_KEY, layout );
		} catch {
			// the choice lasts this page
		}
	}

	function toggleLayout() {
		setLayout( diff.layout === 'side' ? 'inline' : 'side' );
	}

	// -------------------------------------------------------------- editor

	async function loadEditor() {
		const id = itemId;
		if ( !id ) {
			return;
		}
		const g = gen;
		editor.loading = true;
		editor.error = null;
		try {
			const data = await api( 'GET', `/api/v1/items/${ seg( id ) }/editor` );
			if ( g === gen ) {
				editor.data = data || null;
			}
		} catch ( e ) {
			if ( g === gen ) {
				editor.error = failure( e );
			}
		} finally {
			if ( g === gen ) {
				editor.loading = false;
			}
		}
	}

	// ------------------------------------------------------------- actions

	async function loadActions() {
		const id = itemId;
		if ( !id ) {
			return;
		}
		const g = gen;
		actions.loading = true;
		actions.error = null;
		try {
			const data = await api( 'GET', `/api/v1/items/${ seg( id ) }/actions` );
			if ( g === gen ) {
				actions.data = ( data && data.actions && typeof data.actions === 'object' ) ? data.actions : {};
			}
		} catch ( e ) {
			if ( g === gen ) {
				actions.error = failure( e );
			}
		} finally {
			if ( g === gen ) {
				actions.loading = false;
			}
		}
	}

	/** What `GET /actions` says of one action (`{offered: false}` until known). */
	function offer( name ) {
		const a = actions.data && actions.data[ name ];
		return a && typeof a === 'object' ? a : { offered: false, why_not: null };
	}

	/**
	 * The fencing token to act on item `id` with: the held claim's; after a
	 * revert resolved the item, the claim's it was reverted with; an admin
	 * acts without one; otherwise the item is claimed first. `false` when
	 * it could not be claimed (the claim's refusal is in the notice area).
	 */
	/** The editor of item `id`, when it is the one open. */
	function editorOf( id ) {
		const item = useItemStore();
		const d = item.current.id === id ? item.current.detail : null;
		return ( d && d.item && d.item.user ) || '';
	}

	async function tokenFor( id ) {
		const held = heldToken( id );
		if ( held ) {
			return held.token;
		}
		const item = useItemStore();
		const d = item.current.id === id ? item.current.detail : null;
		if ( d && d.state === 'resolved' && usedTokens.has( id ) ) {
			return usedTokens.get( id );
		}
		if ( item.canModerate || !d || d.state !== 'open' ) {
			return null;
		}
		if ( !( await item.claim( id ) ) ) {
			return false;
		}
		const now = heldToken( id );
		return now ? now.token : null;
	}

	/**
	 * Sends `action` on the open item with `body`; the answer's message (or
	 * the refusal's) becomes `actions.result`.
	 *
	 * @param {string} action revert, tag, warn, ask, report, thank, patrol
	 * @param {Object} [body]
	 * @return {Promise<Object|null>} the answer, or null
	 */
	async function act( action, body = {} ) {
		const id = itemId;
		if ( !id || actions.running ) {
			return null;
		}
		const running = action === 'revert' ? `revert:${ body.kind }` : action;
		actions.running = running;
		actions.result = null;
		const g = gen;
		const sent = { ...body };
		try {
			if ( FENCED.has( action ) ) {
				const token = await tokenFor( id );
				if ( token === false ) {
					return null;
				}
				if ( token !== null && token !== undefined ) {
					sent.token = token;
				}
			}
			const answer = await api( 'POST', `/api/v1/items/${ seg( id ) }/actions`, { action, ...sent } );
			if ( sent.token !== undefined ) {
				usedTokens.set( id, sent.token );
			}
			if ( g !== gen ) {
				return answer;
			}
			actions.result = {
				type: 'success',
				text: doneText( action, answer, editorOf( id ) ),
				action
			};
			actions.form = null;
			if ( answer && answer.item_state === 'resolved' ) {
				useItemStore().markResolved( id, OUTCOME_OF[ action ] || 'other' );
			}
			loadActions();
			if ( action === 'warn' || action === 'report' ) {
				loadEditor();
			}
			return answer;
		} catch ( e ) {
			if ( g === gen ) {
				const { token: _token, ...again } = sent;
				actions.result = {
					type: 'error',
					text: failure( e ),
					code: e.code || null,
					offer: OFFERS[ e.code ] || null,
					action,
					body: again
				};
			}
			return null;
		} finally {
			if ( g === gen ) {
				actions.running = null;
			}
		}
	}

	/** Sends the refused action again, confirmed (`confirm_needed`). */
	function confirmAgain() {
		const r = actions.result;
		if ( !r || r.offer !== 'confirm' ) {
			return null;
		}
		return act( r.action, { ...r.body, confirm: true } );
	}

	/**
	 * Opens one of the forms (warn, tag, report, ask); an action that is not
	 * offered says why in the notice area instead.
	 */
	function openForm( which ) {
		const o = offer( which );
		if ( !o.offered && !( which === 'report' && offer( 'warn' ).report_instead ) ) {
			explain( which );
			return false;
		}
		actions.form = which;
		return true;
	}

	function closeForm() {
		if ( !actions.form ) {
			return false;
		}
		actions.form = null;
		return true;
	}

	/** Says in the notice area why an action is not offered. */
	function explain( which ) {
		const o = offer( which );
		const session = useSessionStore();
		if ( actions.loading || ( !actions.data && !actions.error ) ) {
			session.notify( 'notice', t( 'patrolchat-actions-loading' ) );
		} else if ( actions.error ) {
			session.notify( 'error', t( 'patrolchat-actions-error', actions.error ) );
		} else {
			session.notify( 'notice', t( 'patrolchat-act-not-offered', t( `patrolchat-act-${ which }` ), o.why_not || t( 'patrolchat-act-no-reason' ) ) );
		}
	}

	return {
		diff, steps, shown, editor, actions,
		open, close, loadDiff, stepDiff, setLayout, toggleLayout, loadEditor, loadActions,
		offer, act, confirmAgain, openForm, closeForm, explain
	};
} );
