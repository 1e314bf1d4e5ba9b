import BidlineCore
import BidlineProtocol

/// The read verbs with rows: who may read what is decided here; which rows is Core's (`Engine.listingPage` and
/// the others), how they look is BidlineProtocol's (`ReplyWriter.listingRows` and the others).
extension EngineHost {
    func listListings(_ query: ListingQuery) {
        do {
            replies.listingRows(try engine.listingPage(query), in: engine.state)
        } catch {
            // A cursor that names no listing has no place in the order: restarting the paging would loop a bot.
            let cursor = query.after.map(String.init(describing:)) ?? ""
            _ = refuse(error, "after=\(cursor): no such listing")
        }
    }

    func listBids(_ id: ListingID, limit: Int, after: BidID?, session: Session) {
        do {
            let page = try engine.bidPage(of: id, limit: limit, after: after)
            let seesAll = session.isAdmin || session.user == engine.state.listings[id.index].borrower
            replies.bidRows(page, in: engine.state) { investor in seesAll || session.user == investor }
        } catch {
            _ = refuse(error)
        }
    }

    func listPlan(_ id: ListingID) {
        do {
            replies.planRows(try engine.planInstallments(of: id), in: engine.state)
        } catch {
            _ = refuse(error)
        }
    }

    func listHoldings(_ user: UserIndex) {
        replies.holdingRows(engine.heldClaims(of: user), in: engine.state)
    }

    func listLedger(_ id: String?, limit: Int, session: Session) {
        let account: LedgerAccount
        if let id, id == "bank" || id == "platform" {
            guard session.isAdmin else {
                _ = refuse(.forbidden, "system accounts are visible to admins only")
                return
            }
            account = id == "bank" ? .bank : .platform
        } else {
            guard let user = resolveSelfOrOther(id, session: session) else { return }
            account = .available(user)
        }
        replies.ledgerRows(engine.statement(of: account, limit: limit))
    }
}
