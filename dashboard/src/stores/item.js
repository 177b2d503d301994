// The open item: its detail, and the person's actions on it (claim,
// release, resolve, escalate), with the claim's fencing token kept in
// sessionStorage and renewed while the item is open. Its thread is in the
// threads store, who else is looking in the presence store.

import { defineStore } from 'pinia';
import { httpsUrl } from '../links.js';
import { reactive, computed } from 'vue';
import { api, ApiError, seg } from '../api.js';
import { t } from '../i18n.js';
import { errorText } from '../errors.js';
import { now } from '../clock.js';
import { useSessionStore } from './session.js';
import { useQueuesStore } from './queues.js';
import { useThreadsStore } from './threads.js';
import { usePresenceStore } from './presence.js';
import { route, go, pathOf } from '../router.js';

/** The roles a person may have on a wiki, lowest first. */
const ROLES = [ 'reader', 'patroller', 'admin' ];

/** Renew a held claim when less than this is left. */
const RENEW_BEFORE_MS = 60000;

function tokenKey( id ) {
	return `patrolchat.claim.${ id }`;
}

/** The fencing token of this person's claim on an item, if they hold one. */
export function heldToken( id ) {
	try {
		const raw = sessionStorage.getItem( tokenKey( id ) );
		if ( !raw ) {
			return null;
		}
		const c = JSON.parse( raw );
		return c && c.expires_at > Date.now() ? c : null;
	} catch {
		return null;
	}
}

function keepToken( id, token, expires_at ) {
	try {
		sessionStorage.setItem( tokenKey( id ), JSON.stringify( { token, expires_at } ) );
	} catch {
		// storage full or off: the claim lasts this page
	}
}

function dropToken( id ) {
	try {
		sessionStorage.removeItem( tokenKey( id ) );
	} catch {
		// nothing to drop
	}
}

export const useItemStore = defineStore( 'item', () => {
	const current = reactive( {
		id: null,
		/** `{item, state, resolved_by, outcome, claim}` */
		detail: null,
		loading: false,
		error: null,
		/** `resolve`, `escalate` or null: the open form. */
		form: null,
		busy: false,
		/**
		 * What an admin is asked to confirm before taking someone else's
		 * claim over: `{kind: 'claim'}`, or `{kind: 'resolve', outcome,
		 * note, next}` (a resolve done as a take-over, then a resolve).
		 */
		confirm: null
	} );

	let itemGen = 0;

	function meName() {
		const me = useSessionStore().me;
		return me ? me.name : null;
	}

	function detailOf( d ) {
		const role = ROLES.includes( d.viewer_role ) ? d.viewer_role : null;
		if ( role && d.item && d.item.wiki ) {
			const session = useSessionStore();
			session.noteStanding( d.item.wiki, { role } );
			session.loadStanding( d.item.wiki );
		}
		return {
			item: d.item, state: d.state, resolved_by: d.resolved_by || null, outcome: d.outcome || null,
			claim: d.claim || null, viewer_role: role,
			acted: Array.isArray( d.acted ) ? d.acted : [],
			outcomes: Array.isArray( d.outcomes ) ? d.outcomes : [],
			action_url: httpsUrl( d.action_url ),
			action_page: typeof d.action_page === 'string' ? d.action_page : null,
			escalations: Array.isArray( d.escalations ) ? d.escalations : [],
			report: d.report || null,
			reported: d.reported || null
		};
	}

	/**
	 * The person's role on the open item's wiki: what the api said with the
	 * item (`viewer_role`), else what is known of that wiki, else their
	 * highest role.
	 */
	const viewerRole = computed( () => {
		const d = current.detail;
		if ( !d ) {
			return null;
		}
		const session = useSessionStore();
		return d.viewer_role || session.roleOn( d.item && d.item.wiki ) || ( session.me && session.me.role ) || 'reader';
	} );
	/** Claim, resolve and escalate (resolving `ok` marks the edits patrolled). */
	const canPatrol = computed( () => viewerRole.value === 'patroller' || viewerRole.value === 'admin' );
	/** Take-over, hiding messages, notes. */
	const canModerate = computed( () => viewerRole.value === 'admin' );

	/** Says why an action is not offered on the open item (a shortcut pressed anyway). */
	function explainRefusal( needs ) {
		const d = current.detail;
		useSessionStore().notify( 'notice', t( 'patrolchat-needs-role-on', t( `patrolchat-role-${ needs }` ), ( d && d.item && d.item.wiki ) || '?' ) );
	}

	/** The item to claim as soon as its detail has loaded (`c` pressed
	 * while it was loading, or on a row of the list). */
	let claimOnLoad = null;

	/**
	 * Claims `id` now when its detail is here and it is open and unclaimed;
	 * while it is still loading, once it has loaded (so the answer to the
	 * load cannot overwrite the claim).
	 */
	function claimWhenLoaded( id ) {
		if ( current.id === id && current.detail ) {
			if ( !canPatrol.value ) {
				explainRefusal( 'patroller' );
			} else if ( !holding.value && current.detail.state === 'open' ) {
				claim( id );
			}
		} else if ( current.id !== id || current.loading ) {
			claimOnLoad = id;
		}
	}

	/** Opens an item: its detail, thread and presence. */
	async function openItem( id ) {
		if ( current.id === id && ( current.detail || current.loading ) ) {
			return;
		}
		const pending = claimOnLoad === id ? id : null;
		closeItem();
		claimOnLoad = pending;
		const threads = useThreadsStore();
		const gen = ++itemGen;
		current.id = id;
		current.loading = true;
		current.error = null;
		current.form = null;
		current.confirm = null;
		threads.openItemThread( id );
		usePresenceStore().watch( id );
		try {
			const d = await api( 'GET', `/api/v1/items/${ seg( id ) }` );
			if ( gen !== itemGen ) {
				return;
			}
			current.detail = detailOf( d );
			threads.addItemMessages( d.messages || [] );
			const wanted = threads.highlight;
			if ( wanted && wanted.startsWith( `${ id }.` ) && !threads.item.messages.some( ( m ) => m.id === wanted ) ) {
				// A message of this thread opened from search or the inbox,
				// older than the recent ones: the thread from its start.
				api( 'GET', `/api/v1/items/${ seg( id ) }/messages?after=0&limit=500` )
					.then( ( more ) => gen === itemGen && threads.addItemMessages( Array.isArray( more ) ? more : [] ) )
					.catch( () => {} );
			}
			const me = meName();
			if ( !d.claim || !me || d.claim.holder !== me ) {
				dropToken( id );
			}
			if ( claimOnLoad === id ) {
				claimOnLoad = null;
				if ( !canPatrol.value ) {
					explainRefusal( 'patroller' );
				} else if ( d.state === 'open' && !holding.value ) {
					claim( id );
				}
			}
		} catch ( e ) {
			if ( gen === itemGen ) {
				current.error = e instanceof ApiError && e.status === 404 ? t( 'patrolchat-item-not-found' ) : errorText( e );
			}
		} finally {
			if ( gen === itemGen ) {
				current.loading = false;
			}
		}
	}

	/** Leaves the open item. */
	function closeItem() {
		usePresenceStore().unwatch();
		itemGen++;
		claimOnLoad = null;
		current.id = null;
		current.detail = null;
		current.loading = false;
		current.error = null;
		current.form = null;
		current.confirm = null;
		useThreadsStore().closeItemThread();
	}

	/** Forgets the open item (sign-out; the socket is closed already). */
	function forget() {
		current.id = null;
		current.detail = null;
	}

	/** After a reconnect: the item's state, and the messages missed. */
	async function catchUpItem() {
		const id = current.id;
		if ( !id ) {
			return;
		}
		const threads = useThreadsStore();
		const gen = itemGen;
		try {
			const d = await api( 'GET', `/api/v1/items/${ seg( id ) }` );
			const more = await api( 'GET', `/api/v1/items/${ seg( id ) }/messages?after=${ threads.lastItemSeq() }&limit=500` );
			if ( gen !== itemGen ) {
				return;
			}
			current.detail = detailOf( d );
			threads.addItemMessages( d.messages || [] );
			threads.addItemMessages( more || [] );
		} catch {
			// the next reconnect tries again
		}
	}

	/** Whether this person holds the open item's claim. */
	const holding = computed( () => {
		now.value; // eslint-disable-line no-unused-expressions
		const d = current.detail;
		const me = meName();
		return !!( d && d.claim && me && d.claim.holder === me && d.claim.expires_at > Date.now() );
	} );

	function claimed( id, holder, expires_at ) {
		if ( current.id === id && current.detail ) {
			current.detail.claim = { holder, expires_at };
		}
		useQueuesStore().rowClaimed( id, { holder, expires_at } );
	}

	/**
	 * Claims an item; `takeOver` (admins of its wiki) takes a live claim
	 * over from its holder.
	 */
	async function claim( id = current.id, takeOver = false ) {
		if ( !id ) {
			return false;
		}
		const session = useSessionStore();
		current.busy = true;
		try {
			const lease = await api( 'POST', `/api/v1/items/${ seg( id ) }/claim`, takeOver ? { take_over: true } : {} );
			keepToken( id, lease.token, lease.expires_at );
			claimed( id, lease.holder || session.me.name, lease.expires_at );
			session.clearNotice();
			return true;
		} catch ( e ) {
			if ( e.code === 'claimed' && current.id === id && current.detail ) {
				const err = e.body.error || {};
				current.detail.claim = { holder: err.holder || e.body.holder, expires_at: err.expires_at };
			}
			session.notify( 'error', errorText( e ) );
			return false;
		} finally {
			current.busy = false;
		}
	}

	async function release( id = current.id ) {
		const session = useSessionStore();
		const held = heldToken( id );
		if ( !held ) {
			session.notify( 'warning', t( 'patrolchat-not-holding' ) );
			return false;
		}
		current.busy = true;
		try {
			await api( 'POST', `/api/v1/items/${ seg( id ) }/release`, { token: held.token } );
			dropToken( id );
			if ( current.id === id && current.detail ) {
				current.detail.claim = null;
			}
			useQueuesStore().rowClaimed( id, null );
			session.notify( 'success', t( 'patrolchat-released' ) );
			return true;
		} catch ( e ) {
			session.notify( 'error', errorText( e ) );
			return false;
		} finally {
			current.busy = false;
		}
	}

	function resolvedHere( id, by, outcome ) {
		if ( current.id === id && current.detail ) {
			current.detail.state = 'resolved';
			current.detail.resolved_by = by;
			current.detail.outcome = outcome;
			current.detail.claim = null;
		}
	}

	/** Whether someone else holds the open item's claim now. */
	function heldByOther() {
		const d = current.detail;
		const me = meName();
		return !!( d && d.claim && d.claim.holder && d.claim.holder !== me && d.claim.expires_at > Date.now() );
	}

	/**
	 * Resolves an item. An admin resolving an item someone else holds is
	 * asked first (`current.confirm`; false is returned); `takeOver` (the
	 * confirmation) takes the claim over, then resolves with its token.
	 */
	async function resolve( id, outcome, note, takeOver = false, next = false ) {
		const session = useSessionStore();
		const here = current.id === id;
		if ( here && canModerate.value && heldByOther() && !takeOver ) {
			current.confirm = { kind: 'resolve', holder: current.detail.claim.holder, outcome, note: note || '', next };
			return false;
		}
		let held = heldToken( id );
		if ( takeOver && !held ) {
			if ( !( await claim( id, true ) ) ) {
				return false;
			}
			held = heldToken( id );
		} else if ( !held && !( here && canModerate.value ) ) {
			if ( !( await claim( id ) ) ) {
				return false;
			}
			held = heldToken( id );
		}
		current.busy = true;
		try {
			const body = { outcome };
			if ( held ) {
				body.token = held.token;
			}
			if ( note && note.trim() ) {
				body.note = note.trim();
			}
			await api( 'POST', `/api/v1/items/${ seg( id ) }/resolve`, body );
			dropToken( id );
			resolvedHere( id, session.me.name, outcome );
			current.form = null;
			session.notify( 'success', t( 'patrolchat-resolved-notice', t( `patrolchat-outcome-${ outcome }` ) ) );
			return true;
		} catch ( e ) {
			session.notify( 'error', errorText( e ) );
			return false;
		} finally {
			current.busy = false;
		}
	}

	/**
	 * Opens the item after `id` in the list (the next open one nobody
	 * else holds), if `id` is still the open item; says so when there is
	 * none, and the item stays open.
	 */
	function moveOn( id ) {
		if ( current.id !== id ) {
			return false;
		}
		const queues = useQueuesStore();
		const wf = route.wf || queues.list.wf;
		const next = wf ? queues.nextAfter( id, meName() ) : null;
		if ( !next ) {
			useSessionStore().notify( 'notice', t( 'patrolchat-no-next' ) );
			return false;
		}
		go( 'item', wf, next.id );
		return true;
	}

	/** Whether the open item can be decided on by this person now (else says why). */
	function decidable() {
		const d = current.detail;
		if ( !d || current.busy ) {
			return false;
		}
		if ( !canPatrol.value ) {
			explainRefusal( 'patroller' );
			return false;
		}
		return d.state !== 'resolved';
	}

	/**
	 * The one-key "fine": resolved as fine (the wiki marks it patrolled),
	 * then the next item. A queue whose outcomes do not include "fine" (an
	 * admin queue: blocked, declined, ...) opens the resolve form instead.
	 */
	async function fine() {
		const id = current.id;
		const declared = current.detail ? current.detail.outcomes : [];
		if ( decidable() && declared.length && !declared.includes( 'ok' ) ) {
			openForm( 'resolve' );
			return;
		}
		if ( decidable() && await resolve( id, 'ok', '', false, true ) ) {
			moveOn( id );
		}
	}

	/** Skip: the claim released if held, then the next item. */
	async function skip() {
		const id = current.id;
		if ( !id ) {
			return;
		}
		if ( holding.value && !( await release( id ) ) ) {
			return;
		}
		moveOn( id );
	}

	/** Asks an admin to confirm taking someone else's claim over. */
	function askTakeOver() {
		if ( heldByOther() && canModerate.value ) {
			current.confirm = { kind: 'claim', holder: current.detail.claim.holder };
		}
	}

	/** The admin confirmed: the take-over (and the resolve it was asked for). */
	async function confirmTakeOver() {
		const c = current.confirm;
		const id = current.id;
		current.confirm = null;
		if ( !c || !id ) {
			return false;
		}
		if ( c.kind === 'claim' ) {
			return claim( id, true );
		}
		const done = await resolve( id, c.outcome, c.note, true );
		if ( done && c.next ) {
			moveOn( id );
		}
		return done;
	}

	function cancelConfirm() {
		current.confirm = null;
	}

	async function escalate( id, workflow, reason ) {
		const session = useSessionStore();
		current.busy = true;
		try {
			const done = await api( 'POST', `/api/v1/items/${ seg( id ) }/escalate`, { workflow, reason } );
			dropToken( id );
			resolvedHere( id, session.me.name, 'escalated' );
			if ( current.id === id && current.detail && done && done.linked ) {
				const others = current.detail.escalations.filter( ( e ) => e.id !== done.linked );
				current.detail.escalations = [ ...others, { id: done.linked, workflow, state: 'open' } ];
			}
			current.form = null;
			const wf = useQueuesStore().workflowOf( workflow );
			session.notify( 'success', t( 'patrolchat-escalated-notice', wf ? wf.title : workflow ) );
			return done;
		} catch ( e ) {
			session.notify( 'error', errorText( e ) );
			return null;
		} finally {
			current.busy = false;
		}
	}

	/** Opens the resolve or escalate form of the open item. */
	function openForm( which ) {
		if ( !current.detail || current.detail.state === 'resolved' ) {
			return false;
		}
		// A report is answered, not handed on.
		if ( which === 'escalate' && current.detail.item && current.detail.item.kind === 'report' ) {
			return false;
		}
		if ( !canPatrol.value ) {
			explainRefusal( 'patroller' );
			return false;
		}
		current.form = which;
		return true;
	}

	/** Closes the open form. */
	function closeForm() {
		current.form = null;
	}

	/** Keeps a held claim alive while its item is open. */
	async function renewIfDue() {
		const id = current.id;
		if ( !id || !holding.value || current.busy ) {
			return;
		}
		const held = heldToken( id );
		const d = current.detail;
		if ( !held || !d || d.state !== 'open' || d.claim.expires_at - Date.now() > RENEW_BEFORE_MS ) {
			return;
		}
		try {
			const lease = await api( 'POST', `/api/v1/items/${ seg( id ) }/renew`, { token: held.token } );
			keepToken( id, lease.token, lease.expires_at );
			claimed( id, lease.holder || meName(), lease.expires_at );
		} catch ( e ) {
			if ( e.status === 409 ) {
				dropToken( id );
				useSessionStore().notify( 'warning', errorText( e ) );
			}
		}
	}
	setInterval( renewIfDue, 15000 );

	/** An item's title as far as this page knows it (else its id), and a link to it, for notices. */
	function itemNotice( id ) {
		const queues = useQueuesStore();
		const row = queues.rowOf( id );
		const title = ( row && row.item.title ) || ( current.id === id && current.detail && current.detail.item.title ) || id;
		const wf = row ? queues.list.wf : null;
		return { title, link: { href: pathOf( 'item', wf, id ), go: () => go( 'item', wf, id ) } };
	}

	/** An `item.*` frame: the open item's detail and this person's token. */
	function applyFrame( f ) {
		const session = useSessionStore();
		const me = meName();
		switch ( f.type ) {
			case 'item.updated':
				if ( f.item && current.id === f.item.id && current.detail ) {
					current.detail.item = f.item;
				}
				return;
			case 'item.claimed':
				if ( current.id === f.item && current.detail ) {
					current.detail.claim = { holder: f.holder, expires_at: f.expires_at };
				}
				if ( !me || f.holder !== me ) {
					dropToken( f.item );
				}
				return;
			case 'item.released':
				if ( current.id === f.item && current.detail && current.detail.claim && current.detail.claim.holder === f.holder ) {
					current.detail.claim = null;
				}
				if ( me && f.holder === me ) {
					dropToken( f.item );
					if ( f.reason === 'expired' ) {
						const n = itemNotice( f.item );
						session.notify( 'warning', t( 'patrolchat-claim-expired', n.title ), { link: n.link } );
					}
				}
				return;
			case 'item.acted':
				// What was done on the wiki: the latest of each action.
				if ( current.id === f.item && current.detail ) {
					const acted = ( current.detail.acted || [] ).filter( ( a ) => a.action !== f.action );
					acted.push( f );
					current.detail.acted = acted;
				}
				return;
			case 'item.resolved': {
				const by = f.by && f.by.name ? f.by.name : '?';
				if ( current.id === f.item && current.detail && current.detail.state !== 'resolved' ) {
					resolvedHere( f.item, by, f.outcome );
				}
				// An escalation of the open item was answered.
				if ( current.detail && current.detail.escalations.some( ( e ) => e.id === f.item ) ) {
					current.detail.escalations = current.detail.escalations.map( ( e ) => ( e.id === f.item ? { ...e, state: 'resolved', outcome: f.outcome, resolved_by: by } : e ) );
				}
				dropToken( f.item );
				if ( f.was_yours && ( !me || by !== me ) ) {
					const n = itemNotice( f.item );
					session.notify( 'warning', t( 'patrolchat-yours-resolved', n.title, by, t( `patrolchat-outcome-${ f.outcome }` ) ), { link: n.link } );
				}
			}
		}
	}

	/**
	 * The open item was resolved by an action of this person's on the wiki
	 * (a revert): its state, before the `item.resolved` frame says so.
	 */
	function markResolved( id, outcome ) {
		resolvedHere( id, meName(), outcome );
		if ( current.id === id ) {
			current.form = null;
		}
	}

	return {
		current, holding, viewerRole, canPatrol, canModerate,
		openItem, closeItem, forget, catchUpItem, claim, claimWhenLoaded, release, resolve, escalate, openForm, closeForm, applyFrame,
		markResolved, moveOn, fine, skip, askTakeOver, confirmTakeOver, cancelConfirm
	};
} );
