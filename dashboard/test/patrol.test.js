// Patrolling in place: the item view's diff (steps, layouts, states), the
// editor at a glance and the actions on the wiki (tokens, answers,
// refusals and what they offer), the keys of those panels, the "editor of
// this change" chip and the notice of one's own edits under discussion;
// against a fake api answering the shapes of the api's routes.
import { afterEach, describe, expect, test, vi } from 'vitest';
import { fakeApi, reply, person, itemDetail, mountPage, settle, waitFor } from './harness.js';
import { useItemStore } from '../src/stores/item.js';
import { onKeydown } from '../src/keyboard.js';

let page = null;

afterEach( () => {
	if ( page ) {
		page.unmount();
		page = null;
	}
	vi.unstubAllGlobals();
	sessionStorage.clear();
	localStorage.clear();
} );

const ROW = ( o, n ) => '<tr><td class="diff-marker" data-marker="−"></td><td class="diff-deletedline diff-side-deleted"><div>' + o +
	'</div></td><td class="diff-marker" data-marker="+"></td><td class="diff-addedline diff-side-added"><div>' + n + '</div></td></tr>';
const CONTEXT = '<tr><td class="diff-marker"></td><td class="diff-context diff-side-deleted"><div>same</div></td><td class="diff-marker"></td><td class="diff-context diff-side-added"><div>same</div></td></tr>';

function diffAnswer( over = {} ) {
	return {
		item: 'enwiki-1', wiki: 'enwiki', lang: 'he', dir: 'rtl', kind: 'diff', from_rev: 100, to_rev: 105, rev: null,
		revisions: [ 105, 103 ], html: ROW( 'old whole', 'new whole' ) + CONTEXT, text: null, cached: false, ...over
	};
}

const ACTIONS = {
	item: 'enwiki-1', wiki: 'enwiki', actions: {
		revert: { offered: true, method: 'rollback', why_not: null },
		tag: { offered: false, why_not: 'only for new pages', criteria: [ { code: 'G3', label: 'Vandalism' } ] },
		warn: { offered: true, series: [ 'vandalism', 'spam' ], level: 1, next_level: 2, report_instead: false, why_not: null },
		ask: { offered: true, why_not: null },
		report: { offered: true, board: 'Wikipedia:AIV', why_not: null },
		thank: { offered: true, why_not: null },
		patrol: { offered: true, why_not: null }
	}
};

/** The editor's answer, its times relative to now. */
const editorAnswer = () => ( {
	user: 'Bob', wiki: 'enwiki', anonymous: false,
	registered_at: Date.now() - 3 * 365 * 86400000, edit_count: 42, groups: [ '*', 'user', 'autoconfirmed' ],
	block: null,
	recent: [
		{ wiki: 'dewiki', title: 'Berlin', rev_id: 7, at: Date.now() - 60000, item: 'dewiki-9' },
		{ wiki: 'enwiki', title: 'Foo', rev_id: 6, at: Date.now() - 120000, item: null }
	],
	last_edit_at: Date.now() - 20000,
	contributions: [ { rev_id: 6, title: 'Foo', at: Date.now() - 120000, comment: '<b>summary</b>', size_diff: -5, top: true, new: false } ],
	warnings: { level: 1, series: 'vandalism', window_days: 30, recent: [ { template: 'uw-vandalism1', series: 'vandalism', level: 1, at: Date.now() - 3600000 } ] },
	talk_url: 'https://en.wikipedia.org/wiki/User_talk:Bob'
} );

/** The routes of an open item with its panels; `over` replaces some. */
function routes( over = {} ) {
	return {
		'GET /api/v1/items/enwiki-1': itemDetail(),
		'GET /api/v1/wikis': { default: { language: 'en', direction: 'ltr' }, wikis: {} },
		'GET /api/v1/me/wikis/enwiki': { wiki: 'enwiki', role: 'patroller', groups: [], blocked: false, checked_at: 1 },
		'GET /api/v1/items/enwiki-1/diff': ( req ) => {
			const rev = new URL( req.url, 'http://x' ).searchParams.get( 'rev' );
			return rev ? diffAnswer( { rev: Number( rev ), from_rev: Number( rev ) - 1, to_rev: Number( rev ), html: ROW( `old ${ rev }`, `new ${ rev }` ) } ) : diffAnswer();
		},
		'GET /api/v1/items/enwiki-1/editor': editorAnswer,
		'GET /api/v1/items/enwiki-1/actions': ACTIONS,
		...over
	};
}

/** Opens enwiki-1; waits for its three panels to have answered. */
async function openItem( over = {}, me = person() ) {
	const api = fakeApi( routes( over ) );
	page = await mountPage( '/queue/patrol/item/enwiki-1', me );
	useItemStore().openItem( 'enwiki-1' );
	await waitFor( () => page.el.querySelector( '[data-testid="wiki-actions"]' ), 'the patrol panels' );
	await waitFor( () => !page.el.querySelector( '[data-testid="wiki-actions"][aria-busy="true"], [data-testid="diff"][aria-busy="true"], [data-testid="editor"][aria-busy="true"]' ) || null, 'the panels loaded' );
	await settle();
	return { api, view: page.el.querySelector( '[data-testid="item-view"]' ) };
}

const q = ( root, id ) => root.querySelector( `[data-testid="${ id }"]` );
const text = ( root, id ) => ( q( root, id ) ? q( root, id ).textContent.replace( /\s+/g, ' ' ).trim() : null );

/** Presses `key` as the page's keyboard handler sees it. */
async function press( key ) {
	onKeydown( new KeyboardEvent( 'keydown', { key, bubbles: true, cancelable: true } ) );
	await settle();
}

/** The rows of the diff shown, cells joined by `|`. */
function diffLines( view ) {
	return [ ...view.querySelectorAll( '[data-testid="diff-content"] tr' ) ].map( ( tr ) => [ ...tr.children ].map( ( c ) => c.textContent ).join( '|' ) );
}

describe( 'the diff', () => {
	test( 'shows the whole episode, then each revision (n, p), in the wiki\'s language and direction', async () => {
		const { api, view } = await openItem();
		const box = q( view, 'diff-content' );
		expect( box.getAttribute( 'lang' ) ).toBe( 'he' );
		expect( box.getAttribute( 'dir' ) ).toBe( 'rtl' );
		expect( text( view, 'diff-step' ) ).toBe( 'Whole episode' );
		expect( diffLines( view ) ).toEqual( [ '\u2212|old whole|+|new whole', '|same||same' ] );
		await press( 'n' );
		await waitFor( () => diffLines( view )[ 0 ] === '\u2212|old 105|+|new 105' || null, 'revision 105' );
		expect( text( view, 'diff-step' ) ).toBe( 'Revision 105 (1 of 2)' );
		expect( api.to( 'GET /api/v1/items/enwiki-1/diff' ).map( ( c ) => c.url ) ).toEqual( [
			'/api/v1/items/enwiki-1/diff', '/api/v1/items/enwiki-1/diff?rev=105'
		] );
		await press( 'n' );
		await waitFor( () => diffLines( view )[ 0 ] === '\u2212|old 103|+|new 103' || null, 'revision 103' );
		await press( 'n' ); // the last step stays
		expect( text( view, 'diff-step' ) ).toBe( 'Revision 103 (2 of 2)' );
		await press( 'p' );
		await press( 'p' );
		expect( text( view, 'diff-step' ) ).toBe( 'Whole episode' );
		expect( diffLines( view )[ 0 ] ).toBe( '\u2212|old whole|+|new whole' );
		// Answers are kept: no second request for the whole episode.
		expect( api.to( 'GET /api/v1/items/enwiki-1/diff' ) ).toHaveLength( 3 );
	} );

	test( 'l switches side by side and inline, and the choice is kept', async () => {
		const { view } = await openItem();
		expect( q( view, 'diff-content' ).dataset.layout ).toBe( 'side' );
		await press( 'l' );
		expect( q( view, 'diff-content' ).dataset.layout ).toBe( 'inline' );
		expect( diffLines( view ) ).toEqual( [ '\u2212|old whole', '+|new whole', '|same' ] );
		expect( localStorage.getItem( 'patrolchat.diffLayout' ) ).toBe( 'inline' );
		const toggle = q( view, 'diff-layout' );
		expect( toggle.getAttribute( 'role' ) ).toBe( 'group' );
		[ ...toggle.querySelectorAll( 'button' ) ].find( ( b ) => b.textContent.includes( 'Side by side' ) ).click();
		await settle();
		expect( q( view, 'diff-content' ).dataset.layout ).toBe( 'side' );
	} );

	test( 'a creation shows the page\'s text as text; no change and errors say so', async () => {
		const text1 = '<script>alert(1)</script> == New page ==';
		let { view } = await openItem( { 'GET /api/v1/items/enwiki-1/diff': diffAnswer( { kind: 'creation', from_rev: null, revisions: [ 105 ], html: null, text: text1 } ) } );
		const pre = q( view, 'diff-creation' );
		expect( pre.textContent ).toBe( text1 );
		expect( pre.querySelector( '*' ) ).toBe( null );
		expect( pre.getAttribute( 'tabindex' ) ).toBe( '0' );
		expect( q( view, 'diff-step' ) ).toBe( null ); // one revision: nothing to step through
		expect( text( view, 'diff-range' ) ).toBe( 'New page, revision 105' );
		page.unmount();

		( { view } = await openItem( { 'GET /api/v1/items/enwiki-1/diff': diffAnswer( { html: '' } ) } ) );
		expect( text( view, 'diff-empty' ) ).toBe( 'No change: the text is the same.' );
		page.unmount();

		( { view } = await openItem( { 'GET /api/v1/items/enwiki-1/diff': reply( 502, { error: { code: 'wiki_unavailable', message: 'enwiki did not answer.' } } ) } ) );
		expect( text( view, 'diff-error' ) ).toBe( 'The changes could not be loaded: The wiki did not answer. Try again.' );
	} );
} );

describe( 'the editor at a glance', () => {
	test( 'an account: age, edits, groups, last edit (live), recent edits on every wiki, contributions, warnings', async () => {
		const { view } = await openItem();
		expect( text( view, 'editor-name' ) ).toBe( 'Bob' );
		expect( text( view, 'editor-age' ) ).toBe( '3 yr. ago' );
		expect( text( view, 'editor-edit-count' ) ).toBe( '42' );
		expect( [ ...q( view, 'editor-groups' ).querySelectorAll( '.cdx-info-chip' ) ].map( ( c ) => c.textContent.trim() ) ).toEqual( [ 'user', 'autoconfirmed' ] );
		expect( text( view, 'editor-block' ) ).toBe( 'not blocked' );
		// 20 s before the answer; the page's clock ticks every second.
		const [ , secs ] = /^edited (\d+) sec\. ago$/.exec( text( view, 'editor-last-edit' ) ) || [];
		expect( Number( secs ) ).toBeGreaterThanOrEqual( 19 );
		expect( Number( secs ) ).toBeLessThan( 40 );
		expect( text( view, 'editor-warnings' ) ).toContain( 'level 1 (vandalism)' );
		const recent = q( view, 'editor-recent' );
		const link = recent.querySelector( 'a' );
		expect( link.getAttribute( 'href' ) ).toBe( '/item/dewiki-9' );
		expect( recent.querySelectorAll( 'a' ) ).toHaveLength( 1 );
		expect( text( view, 'editor-contribs' ) ).toContain( '<b>summary</b>' );
		expect( q( view, 'editor-contribs' ).querySelector( 'b' ) ).toBe( null );
		expect( view.querySelector( '[data-testid="editor"] a[href="https://en.wikipedia.org/wiki/User_talk:Bob"]' ) ).not.toBe( null );
	} );

	test( 'an IP editor: no age, no groups; a block says by whom, until when and why', async () => {
		const { view } = await openItem( { 'GET /api/v1/items/enwiki-1/editor': {
			...editorAnswer(), user: '192.0.2.1', anonymous: true, registered_at: null, edit_count: null, groups: [],
			block: { by: 'Admin', reason: 'vandalism', expires_at: null, partial: false }
		} } );
		expect( q( view, 'editor-anonymous' ) ).not.toBe( null );
		expect( q( view, 'editor-age' ) ).toBe( null );
		expect( q( view, 'editor-groups' ) ).toBe( null );
		expect( q( view, 'editor-edit-count' ) ).toBe( null );
		expect( text( view, 'editor-block' ) ).toBe( 'Blocked by Admin indefinitely: vandalism' );
	} );
} );

describe( 'acting on the wiki', () => {
	test( 'q claims, reverts as vandalism with the claim\'s token, shows the answer and resolves the item; w then warns with the same token', async () => {
		const { api, view } = await openItem( {
			'POST /api/v1/items/enwiki-1/claim': { token: 'tok-7', expires_at: Date.now() + 300000, holder: 'Alice' },
			'POST /api/v1/items/enwiki-1/actions/revert': { action: 'revert', item: 'enwiki-1', method: 'rollback', detail: 'rollback', base_rev: 100, new_rev: 106, item_state: 'resolved', level: null, linked: null, message: 'API ENGLISH: reverted to revision 100 by rollback.' },
			'POST /api/v1/items/enwiki-1/actions/warn': { action: 'warn', item: 'enwiki-1', method: null, detail: 'uw-vandalism2', new_rev: 900, item_state: 'resolved', level: 2, linked: null, message: 'Left a level 2 warning.' }
		} );
		expect( text( view, 'act-revert-vandalism' ) ).toBe( 'Rollback (vandalism)' );
		await press( 'q' );
		await waitFor( () => q( view, 'act-result' ), 'the answer' );
		const [ revert ] = api.to( 'POST /api/v1/items/enwiki-1/actions/revert' );
		expect( revert.body ).toEqual( { kind: 'vandalism', token: 'tok-7' } );
		expect( revert.wire ).toEqual( { path: '/api/v1/items/enwiki-1/actions', action: 'revert' } );
		expect( revert.headers[ 'X-CSRF-Token' ] ).toBe( 'csrf-1' );
		expect( api.to( 'POST /api/v1/items/enwiki-1/claim' ) ).toHaveLength( 1 );
		// Said from the answer's fields, in the interface language.
		expect( text( view, 'act-result-text' ) ).toBe( 'Reverted to revision 100 with rollback.' );
		expect( q( view, 'act-result' ).dataset.type ).toBe( 'success' );
		expect( useItemStore().current.detail.state ).toBe( 'resolved' );
		// The actions are read again after acting.
		expect( api.to( 'GET /api/v1/items/enwiki-1/actions' ).length ).toBeGreaterThan( 1 );

		// The item.resolved frame drops the held token; the warning still carries it.
		useItemStore().applyFrame( { type: 'item.resolved', item: 'enwiki-1', by: { name: 'Alice' }, outcome: 'reverted' } );
		await press( 'w' );
		const form = q( view, 'warn-form' );
		expect( text( form, 'warn-level' ) ).toBe( 'Current level: 1. This warning is level 2.' );
		const select = q( form, 'warn-series' );
		expect( document.activeElement ).toBe( select );
		expect( select.value ).toBe( 'vandalism' );
		select.dispatchEvent( new KeyboardEvent( 'keydown', { key: 'Enter', bubbles: true, cancelable: true } ) );
		await waitFor( () => api.to( 'POST /api/v1/items/enwiki-1/actions/warn' ).length || null, 'the warning sent' );
		expect( api.to( 'POST /api/v1/items/enwiki-1/actions/warn' )[ 0 ].body ).toEqual( { series: 'vandalism', token: 'tok-7' } );
		await settle();
		expect( text( view, 'act-result-text' ) ).toBe( 'Warned Bob with uw-vandalism2.' );
		expect( q( view, 'warn-form' ) ).toBe( null );
	} );

	test( 'confirm_needed asks for a confirmation and sends again with confirm: true', async () => {
		let n = 0;
		const { api, view } = await openItem( {
			'POST /api/v1/items/enwiki-1/claim': { token: 'tok-1', expires_at: Date.now() + 300000, holder: 'Alice' },
			'POST /api/v1/items/enwiki-1/actions/revert': () => ( n++ === 0 ?
				reply( 409, { error: { code: 'confirm_needed', message: 'This edit is over a day old. Revert it anyway?' } } ) :
				{ action: 'revert', item: 'enwiki-1', method: 'rollback', detail: 'rollback', base_rev: 100, new_rev: 106, item_state: 'resolved', message: 'Reverted.' } )
		} );
		q( view, 'act-revert-good-faith' ).click();
		await waitFor( () => q( view, 'act-confirm' ), 'the confirmation' );
		expect( text( view, 'act-result-text' ) ).toBe( 'This needs your confirmation first.' );
		expect( q( view, 'act-result' ).dataset.code ).toBe( 'confirm_needed' );
		q( view, 'act-confirm' ).click();
		await waitFor( () => text( view, 'act-result-text' ) === 'Reverted to revision 100 with rollback.' || null, 'the confirmed answer' );
		const sent = api.to( 'POST /api/v1/items/enwiki-1/actions/revert' ).map( ( c ) => c.body );
		expect( sent ).toEqual( [ { kind: 'good_faith', token: 'tok-1' }, { kind: 'good_faith', token: 'tok-1', confirm: true } ] );
	} );

	test( 'a warning refused until confirmed says why: an old edit, or the page acted on since', async () => {
		let n = 0;
		const { api, view } = await openItem( {
			'POST /api/v1/items/enwiki-1/claim': { token: 'tok-1', expires_at: Date.now() + 300000, holder: 'Alice' },
			'POST /api/v1/items/enwiki-1/actions/warn': () => reply( 409, { error: { code: 'confirm_needed', reason: n++ === 0 ? 'old_edit' : 'acted_since', message: 'English for logs' } } )
		} );
		for ( const said of [ 'This edit is more than a day old. Confirm to warn anyway.', 'Someone else has reverted or edited the page since. Confirm to warn anyway.' ] ) {
			await press( 'w' );
			q( q( view, 'warn-form' ), 'warn-series' ).dispatchEvent( new KeyboardEvent( 'keydown', { key: 'Enter', bubbles: true, cancelable: true } ) );
			await waitFor( () => text( view, 'act-result-text' ) === said || null, said );
			expect( q( view, 'act-confirm' ) ).not.toBe( null );
		}
		expect( api.to( 'POST /api/v1/items/enwiki-1/actions/warn' ) ).toHaveLength( 2 );
	} );

	test( 'only_author offers tagging; top_level offers the report; the server\'s sentence shows', async () => {
		const { view } = await openItem( {
			'POST /api/v1/items/enwiki-1/claim': { token: 'tok-1', expires_at: Date.now() + 300000, holder: 'Alice' },
			'GET /api/v1/items/enwiki-1/actions': { ...ACTIONS, actions: { ...ACTIONS.actions, tag: { ...ACTIONS.actions.tag, offered: true, why_not: null } } },
			'POST /api/v1/items/enwiki-1/actions/revert': reply( 409, { error: { code: 'only_author', message: 'Bob is the only author of this page.' } } ),
			'POST /api/v1/items/enwiki-1/actions/warn': reply( 409, { error: { code: 'top_level', message: 'Bob has had the last warning.' } } )
		} );
		await press( 'q' );
		await waitFor( () => q( view, 'act-offer-tag' ), 'the tagging offer' );
		expect( text( view, 'act-result-text' ) ).toBe( 'There is nothing to revert to: the editor is the page\'s only author.' );
		q( view, 'act-offer-tag' ).click();
		await settle();
		expect( q( view, 'tag-criterion' ).value ).toBe( 'G3' );
		await press( 'Escape' );
		expect( q( view, 'tag-form' ) ).toBe( null );
		await press( 'w' );
		q( view, 'warn-send' ).click();
		await waitFor( () => q( view, 'act-offer-report' ), 'the report offer' );
		q( view, 'act-offer-report' ).click();
		await settle();
		expect( q( view, 'report-form' ).textContent ).toContain( 'The report goes to Wikipedia:AIV.' );
	} );

	test( 'what is not offered is disabled with the reason; its key says why', async () => {
		const { api, view } = await openItem();
		const tag = q( view, 'act-tag' );
		expect( tag.disabled ).toBe( true );
		const why = view.querySelector( `#${ tag.getAttribute( 'aria-describedby' ) }` );
		expect( why.textContent ).toBe( 'Tag for deletion: only for new pages' );
		await press( 'd' );
		expect( text( page.el, 'notice' ) ).toBe( 'Tag for deletion is not offered here: only for new pages' );
		expect( q( view, 'tag-form' ) ).toBe( null );
		expect( api.calls.filter( ( c ) => c.method === 'POST' ) ).toEqual( [] );
	} );

	test( 'an undo method labels the reverts; thank needs no claim; a refusal shows its message', async () => {
		const { api, view } = await openItem( {
			'GET /api/v1/items/enwiki-1/actions': { ...ACTIONS, actions: { ...ACTIONS.actions, revert: { offered: true, method: 'undo', why_not: null } } },
			'POST /api/v1/items/enwiki-1/actions/thank': reply( 429, { error: { code: 'wiki_rate_limited', message: 'enwiki asks to slow down.' } } )
		} );
		expect( text( view, 'act-revert-vandalism' ) ).toBe( 'Undo (vandalism)' );
		expect( text( view, 'act-revert-good-faith' ) ).toBe( 'Undo (good faith)' );
		await press( 't' );
		await waitFor( () => q( view, 'act-result' ), 'the refusal' );
		expect( api.to( 'POST /api/v1/items/enwiki-1/actions/thank' )[ 0 ].body ).toEqual( {} );
		expect( api.to( 'POST /api/v1/items/enwiki-1/claim' ) ).toHaveLength( 0 );
		expect( q( view, 'act-result' ).dataset.type ).toBe( 'error' );
		expect( text( view, 'act-result-text' ) ).toBe( 'The wiki asks you to slow down; try again in a moment.' );
	} );

	test( 'the panels say when the api does not answer', async () => {
		const missing = reply( 404, { error: { code: 'not_found', message: 'not found' } } );
		const { view } = await openItem( {
			'GET /api/v1/items/enwiki-1/diff': missing, 'GET /api/v1/items/enwiki-1/editor': missing, 'GET /api/v1/items/enwiki-1/actions': missing
		} );
		for ( const id of [ 'diff-error', 'editor-error', 'actions-error' ] ) {
			expect( text( view, id ), id ).toContain( 'That is not here any more, or you may not see it.' );
		}
	} );
} );

describe( 'the editor of the change', () => {
	test( 'their messages carry the chip "editor of this change"', async () => {
		const { view } = await openItem( { 'GET /api/v1/items/enwiki-1': itemDetail( { messages: [
			{ id: 'm1', seq: 1, author: 'Bob', text: 'why?', at: Date.now(), item: 'enwiki-1', as_editor: true },
			{ id: 'm2', seq: 2, author: 'Carol', text: 'because', at: Date.now(), item: 'enwiki-1' }
		] } ) } );
		const chips = [ ...view.querySelectorAll( '[data-testid="message"]' ) ].map( ( m ) => text( m, 'as-editor' ) );
		expect( chips ).toEqual( [ 'editor of this change', null ] );
	} );

	test( 'after sign-in, the items about one\'s own edits under discussion are a notice with links', async () => {
		await openItem( { 'GET /api/v1/me/discussed': { items: [
			{ item: 'enwiki-77', wiki: 'enwiki', title: 'My page', state: 'open', messages: 3, last_at: Date.now() },
			{ item: 'bad id/..', wiki: 'enwiki', title: 'x', state: 'open', messages: 1, last_at: 1 }
		] } } );
		const notice = await waitFor( () => q( page.el, 'discussed' ), 'the notice' );
		expect( notice.textContent ).toContain( 'Your edits are being discussed' );
		const links = [ ...notice.querySelectorAll( 'a' ) ].map( ( a ) => [ a.textContent, a.getAttribute( 'href' ) ] );
		expect( links ).toEqual( [ [ 'My page', '/item/enwiki-77' ] ] );
		expect( notice.textContent ).toContain( 'enwiki, 3 messages' );
	} );

	test( 'no notice when nothing is discussed', async () => {
		await openItem( { 'GET /api/v1/me/discussed': { items: [] } } );
		expect( q( page.el, 'discussed' ) ).toBe( null );
	} );
} );

test( 'one reason shared by several actions is said once, naming them', async () => {
	const no = { offered: false, why_not: 'You are a reader on enwiki.' };
	const { view } = await openItem( { 'GET /api/v1/items/enwiki-1/actions': { item: 'enwiki-1', wiki: 'enwiki', actions: {
		...ACTIONS.actions, revert: { ...no, method: 'rollback' }, warn: { ...no, series: [] }, thank: no
	} } } );
	const reasons = [ ...view.querySelectorAll( '[data-testid="why-not"]' ) ].map( ( li ) => li.textContent );
	expect( reasons ).toEqual( [
		'Rollback (vandalism), Rollback (good faith), Warn, Thank: You are a reader on enwiki.',
		'Tag for deletion: only for new pages'
	] );
	for ( const id of [ 'act-revert-vandalism', 'act-revert-good-faith', 'act-warn', 'act-thank' ] ) {
		expect( q( view, id ).getAttribute( 'aria-describedby' ), id ).toBe( 'pc-why-0' );
	}
} );

test( 'a reason with a code is said from its code, with the wiki, the editor and the blocker', async () => {
	const { view } = await openItem( { 'GET /api/v1/items/enwiki-1/actions': { item: 'enwiki-1', wiki: 'enwiki', actions: {
		...ACTIONS.actions,
		patrol: { offered: false, why_not: 'API ENGLISH one', why_not_code: 'no_patrol_right' },
		report: { offered: false, board: 'Wikipedia:AIV', why_not: 'API ENGLISH two', why_not_code: 'already_blocked', blocked_by: 'Sysop9' },
		thank: { offered: false, why_not: 'API ENGLISH three', why_not_code: 'a_code_from_a_newer_api' }
	} } } );
	const reasons = [ ...view.querySelectorAll( '[data-testid="why-not"]' ) ].map( ( li ) => li.textContent ).join( '\n' );
	expect( reasons ).toContain( 'you do not have the patrol right on enwiki' );
	expect( reasons ).toContain( 'Bob is already blocked (by Sysop9)' );
	expect( reasons ).not.toContain( 'API ENGLISH one' );
	expect( reasons ).not.toContain( 'API ENGLISH two' );
	// A code this page does not know: the api's English rather than nothing.
	expect( reasons ).toContain( 'API ENGLISH three' );
} );

describe( 'what was done on the wiki', () => {
	test( 'the item lists it, and an item.acted frame adds to it live', async () => {
		const acted = [ { type: 'item.acted', item: 'enwiki-1', action: 'revert', by: { name: 'Alice' }, detail: 'rollback', at: Date.now() - 1000 } ];
		const { view } = await openItem( { 'GET /api/v1/items/enwiki-1': itemDetail( { acted } ) } );
		const entries = () => [ ...view.querySelectorAll( '[data-testid="acted-entry"]' ) ].map( ( e ) => e.textContent.trim() );
		expect( entries() ).toEqual( [ 'Reverted by Alice (rollback)' ] );
		useItemStore().applyFrame( { type: 'item.acted', item: 'enwiki-1', action: 'warn', by: { name: 'Bob' }, detail: 'uw-vandalism2', level: 2, at: Date.now() } );
		await settle();
		expect( entries() ).toEqual( [ 'Reverted by Alice (rollback)', 'Warned by Bob (uw-vandalism2, level 2)' ] );
		// Another item's frame changes nothing here.
		useItemStore().applyFrame( { type: 'item.acted', item: 'enwiki-2', action: 'thank', by: { name: 'Carol' }, at: Date.now() } );
		await settle();
		expect( entries() ).toHaveLength( 2 );
	} );
} );
