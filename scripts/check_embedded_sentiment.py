#!/usr/bin/env python3
"""Independent check of the embedded sentiment corpus: does an LSTM clearly beat a
bag-of-embeddings FFN on the held-out split? PyTorch, 2 threads, 8 epochs each.

    cargo run --bin dataset-stats -- embedded:sentiment/train --write /tmp/train.tsv
    cargo run --bin dataset-stats -- embedded:sentiment/test --write /tmp/test.tsv
    python3 scripts/check_embedded_sentiment.py /tmp/train.tsv /tmp/test.tsv
"""
import sys, time, torch, torch.nn as nn
torch.set_num_threads(2); torch.manual_seed(0)
def load(p):
    rows=[l.rstrip("\n").split("\t") for l in open(p)][1:]
    return [r[0].split() for r in rows],[int(r[1]) for r in rows]
tr,ytr=load(sys.argv[1]); te,yte=load(sys.argv[2])
vocab={"<pad>":0,"<unk>":1}
for s in tr:
    for w in s: vocab.setdefault(w,len(vocab))
def enc(S):
    L=max(map(len,S)); X=torch.zeros(len(S),L,dtype=torch.long)
    for i,s in enumerate(S): X[i,:len(s)]=torch.tensor([vocab.get(w,1) for w in s])
    return X, torch.tensor([len(s) for s in S])
Xtr,Ltr=enc(tr); Xte,Lte=enc(te); ytr=torch.tensor(ytr); yte=torch.tensor(yte)
class Bag(nn.Module):
    def __init__(s): super().__init__(); s.e=nn.Embedding(len(vocab),64); s.f=nn.Sequential(nn.Linear(64,64),nn.ReLU(),nn.Linear(64,2))
    def forward(s,x,l):
        m=(x>0).float().unsqueeze(-1); return s.f((s.e(x)*m).sum(1)/l.unsqueeze(1))
class Rnn(nn.Module):
    def __init__(s): super().__init__(); s.e=nn.Embedding(len(vocab),64); s.r=nn.LSTM(64,64,batch_first=True); s.o=nn.Linear(64,2)
    def forward(s,x,l):
        p=nn.utils.rnn.pack_padded_sequence(s.e(x),l,batch_first=True,enforce_sorted=False)
        _,(h,_)=s.r(p); return s.o(h[-1])
for M in (Bag,Rnn):
    m=M(); opt=torch.optim.Adam(m.parameters(),1e-3); t=time.time()
    for ep in range(8):
        perm=torch.randperm(len(ytr))
        for i in range(0,len(perm),32):
            b=perm[i:i+32]; opt.zero_grad(); nn.functional.cross_entropy(m(Xtr[b],Ltr[b]),ytr[b]).backward(); opt.step()
        with torch.no_grad(): acc=(m(Xte,Lte).argmax(1)==yte).float().mean().item()
    print(M.__name__, "test acc %.3f"%acc, "%.0fs"%(time.time()-t))
